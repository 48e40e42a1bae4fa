// Bearer-token auth scoped to a workspace (DESIGN §2 "Worker").
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./context";
import type { Env } from "../env";
import { ApiError } from "./errors";
import { db, workspaceForToken } from "../db/queries";
import { hashToken, signingKey, timingSafeEqual, workspaceOfContainerToken } from "../auth/crypto";

/** Token lookups are cached per isolate briefly: a hot path should not read D1 for every request. */
const TOKEN_CACHE_MS = 30_000;
const tokenCache = new Map<string, { workspaceId: string; expiresAtMs: number }>();

function bearer(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return m ? m[1] : null;
}

export const requireToken: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearer(c.req.header("authorization"));
  if (!token) throw new ApiError("UNAUTHENTICATED", "missing token: send `Authorization: Bearer <token>` (squall token create)");
  const workspaceId = await workspaceOfToken(c.env, token);
  if (!workspaceId) throw new ApiError("UNAUTHENTICATED", "invalid token");
  c.set("workspaceId", workspaceId);
  await next();
};

/** The workspace a workspace token or a container token speaks for, or null. Shared by the API and the dashboard. */
export async function workspaceOfToken(env: Env, token: string): Promise<string | null> {
  if (token.startsWith("sqc_")) return workspaceOfContainerToken(signingKey(env), token);
  const hash = await hashToken(token);
  const now = Date.now();
  const cached = tokenCache.get(hash);
  if (cached && cached.expiresAtMs >= now) return cached.workspaceId;
  const workspaceId = await workspaceForToken(db(env.DB), hash);
  if (!workspaceId) {
    tokenCache.delete(hash);
    return null;
  }
  if (tokenCache.size > 10_000) tokenCache.clear();
  tokenCache.set(hash, { workspaceId, expiresAtMs: now + TOKEN_CACHE_MS });
  return workspaceId;
}

export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearer(c.req.header("authorization"));
  const secret = c.env.SQUALL_ADMIN_SECRET;
  if (!secret) throw new ApiError("UNAUTHENTICATED", "this platform has no SQUALL_ADMIN_SECRET set, so no workspace can be created");
  if (!token || !timingSafeEqual(token, secret)) throw new ApiError("UNAUTHENTICATED", "creating a workspace needs the platform's admin secret");
  await next();
};

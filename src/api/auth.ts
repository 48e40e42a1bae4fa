// Bearer-token auth scoped to a workspace (DESIGN §2 "Worker").
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./context";
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
  if (token.startsWith("sqc_")) {
    const workspaceId = await workspaceOfContainerToken(signingKey(c.env), token);
    if (!workspaceId) throw new ApiError("UNAUTHENTICATED", "invalid token");
    c.set("workspaceId", workspaceId);
    return next();
  }
  const hash = await hashToken(token);
  const now = Date.now();
  let cached = tokenCache.get(hash);
  if (!cached || cached.expiresAtMs < now) {
    const workspaceId = await workspaceForToken(db(c.env.DB), hash);
    if (!workspaceId) {
      tokenCache.delete(hash);
      throw new ApiError("UNAUTHENTICATED", "invalid token");
    }
    cached = { workspaceId, expiresAtMs: now + TOKEN_CACHE_MS };
    if (tokenCache.size > 10_000) tokenCache.clear();
    tokenCache.set(hash, cached);
  }
  c.set("workspaceId", cached.workspaceId);
  await next();
};

export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearer(c.req.header("authorization"));
  const secret = c.env.SQUALL_ADMIN_SECRET;
  if (!secret) throw new ApiError("UNAUTHENTICATED", "this platform has no SQUALL_ADMIN_SECRET set, so no workspace can be created");
  if (!token || !timingSafeEqual(token, secret)) throw new ApiError("UNAUTHENTICATED", "creating a workspace needs the platform's admin secret");
  await next();
};

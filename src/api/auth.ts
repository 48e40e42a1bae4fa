// Bearer-token auth scoped to a workspace (DESIGN §2 "Worker").
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./context";
import type { Env } from "../env";
import { ApiError } from "../control/errors";
import { db, workspaceForToken } from "../db/queries";
import { hashToken, signingKey, timingSafeEqual, workspaceOfContainerToken } from "../auth/crypto";
import { bucketsFor, rateLimitOf } from "./rate-limit";

/** Token lookups are cached per isolate briefly: a hot path should not read D1 for every request. */
const TOKEN_CACHE_MS = 30_000;
const tokenCache = new Map<string, { workspaceId: string; expiresAtMs: number }>();

export function bearer(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return m ? m[1] : null;
}

export const requireToken: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearer(c.req.header("authorization"));
  if (!token) throw new ApiError("UNAUTHENTICATED", "missing token: send `Authorization: Bearer <token>` (squall token create)");
  const resolved = await resolveToken(c.env, token);
  if (!resolved) throw new ApiError("UNAUTHENTICATED", "invalid token");
  // Only valid tokens get a bucket: an invalid one is refused above, so made-up tokens cannot fill the table.
  const limit = rateLimitOf(c.env);
  const admitted = bucketsFor(limit).take(resolved.hash, Date.now());
  if (!admitted.ok) {
    throw new ApiError(
      "RESOURCE_EXHAUSTED",
      `too many requests with this token: the limit is ${limit.perSecond} a second (bursts of ${limit.burst}); retry after ${admitted.retryAfterMs} ms`,
      admitted.retryAfterMs,
    );
  }
  c.set("workspaceId", resolved.workspaceId);
  await next();
};

/** The workspace a workspace token or a container token speaks for, or null. Shared by the API and the dashboard. */
export async function workspaceOfToken(env: Env, token: string): Promise<string | null> {
  return (await resolveToken(env, token))?.workspaceId ?? null;
}

/** The token's workspace and its SHA-256 (the key it is known by: tokens themselves are never kept). */
async function resolveToken(env: Env, token: string): Promise<{ workspaceId: string; hash: string } | null> {
  const hash = await hashToken(token);
  if (token.startsWith("sqc_")) {
    const workspaceId = await workspaceOfContainerToken(signingKey(env), token);
    return workspaceId ? { workspaceId, hash } : null;
  }
  const now = Date.now();
  const cached = tokenCache.get(hash);
  if (cached && cached.expiresAtMs >= now) return { workspaceId: cached.workspaceId, hash };
  const workspaceId = await workspaceForToken(db(env.DB), hash);
  if (!workspaceId) {
    tokenCache.delete(hash);
    return null;
  }
  if (tokenCache.size > 10_000) tokenCache.clear();
  tokenCache.set(hash, { workspaceId, expiresAtMs: now + TOKEN_CACHE_MS });
  return { workspaceId, hash };
}

export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearer(c.req.header("authorization"));
  const secret = c.env.SQUALL_ADMIN_SECRET;
  if (!secret) throw new ApiError("UNAUTHENTICATED", "this platform has no SQUALL_ADMIN_SECRET set, so no workspace can be created");
  if (!token || !timingSafeEqual(token, secret)) throw new ApiError("UNAUTHENTICATED", "creating a workspace needs the platform's admin secret");
  await next();
};

// Bearer-token auth scoped to a workspace (docs/architecture.md "The Worker and its API").
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import { ApiError } from "../control/errors";
import { resolveToken } from "../control/tokens";
import { timingSafeEqual } from "../auth/crypto";
import { admitRequest } from "./rate-limit";

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
  admitRequest(c.env, resolved.hash, Date.now());
  c.set("workspaceId", resolved.workspaceId);
  c.set("tokenHash", resolved.hash);
  await next();
};

export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearer(c.req.header("authorization"));
  const secret = c.env.SQUALL_ADMIN_SECRET;
  if (!secret) throw new ApiError("UNAUTHENTICATED", "this platform has no SQUALL_ADMIN_SECRET set, so no workspace can be created");
  if (!token || !timingSafeEqual(token, secret)) throw new ApiError("UNAUTHENTICATED", "creating a workspace needs the platform's admin secret");
  await next();
};

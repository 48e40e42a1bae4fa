// Hono's environment for the two HTTP front ends mounted in one app: the API (src/api) and the dashboard (src/dashboard).
import type { Context } from "hono";
import type { Env } from "./env";
import type { PoolRequest } from "./control/pools";

/** Hono's environment for every route: the bindings and the caller's workspace. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    workspaceId: string;
    /** The caller's token's hash (set with workspaceId by requireToken). */
    tokenHash: string;
  };
}

/** Where containers reach this API: the configured public URL, or the origin the request came to. */
export function publicUrl(c: Context<AppEnv>): string {
  return c.env.SQUALL_PUBLIC_URL || new URL(c.req.url).origin;
}

/** The pool a request names, as plain values: the function, in the caller's workspace, a class instance's params and a variant. */
export function poolRequest(c: Context<AppEnv>, functionId: string, params: string | null, variant: string | null = null): PoolRequest {
  return { workspaceId: c.get("workspaceId"), functionId, params, publicUrl: publicUrl(c), variant };
}

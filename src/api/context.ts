import type { Env } from "../env";

/** Hono's environment for every route: the bindings and the caller's workspace. */
export interface AppEnv {
  Bindings: Env;
  Variables: { workspaceId: string };
}

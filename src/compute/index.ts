import type { Env } from "../env";
import type { ComputeBackend } from "./backend";
import { LocalBackend } from "./local-backend";
import { CloudflareBackend } from "./cloudflare-backend";

export function createBackend(env: Env): ComputeBackend {
  return env.COMPUTE_BACKEND === "local" ? new LocalBackend(env.LOCAL_CONTAINER_HOST_URL) : new CloudflareBackend(env.RUNNER);
}

export type { ComputeBackend } from "./backend";
export { CapacityError, ContainerFailedError } from "./backend";

import type { FunctionPool } from "./pool/function-pool";
import type { Runner } from "./compute/runner-container";

export interface Env {
  DB: D1Database;
  BUNDLES: R2Bucket;
  POOL: DurableObjectNamespace<FunctionPool>;
  RUNNER: DurableObjectNamespace<Runner>;
  SPAWN_QUEUE: Queue<SpawnMessage>;
  COMPUTE_BACKEND: "cloudflare" | "local";
  LOCAL_CONTAINER_HOST_URL: string;
  SQUALL_PUBLIC_URL: string;
  SQUALL_ADMIN_SECRET?: string;
  /** Identifies one start of the local platform (scripts/platform.ts); /v1/health echoes it. */
  SQUALL_PLATFORM_ID?: string;
  SQUALL_SIGNING_KEY?: string;
  /** Per-token request rate (src/api/rate-limit.ts); unset: 1 000 a second, bursts of 10 000. */
  SQUALL_RATE_LIMIT_PER_SECOND?: string;
  SQUALL_RATE_LIMIT_BURST?: string;
}

/** One spawn-queue message carries a batch of spawned calls for one pool. */
export interface SpawnMessage {
  poolId: string;
  calls: Array<{ callId: string; args?: Uint8Array; argsKey?: string; method?: string }>;
}

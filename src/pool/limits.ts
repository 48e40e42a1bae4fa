// Per-pool limits (docs/architecture.md "Limits and backpressure"). Past them the API answers 429
// RESOURCE_EXHAUSTED with Retry-After.
import { fail, ok, type PoolConfig, type PoolResult } from "./config";

/** Inputs from remote/map waiting for a container. */
export const MAX_PENDING_INPUTS = 2_000;
/** Inputs from remote/map pending or running. */
export const MAX_TOTAL_INPUTS = 25_000;
/** Spawned calls waiting to run. */
export const MAX_PENDING_SPAWNS = 1_000_000;
/** A client told to back off waits this long: about one batch of inputs completing. */
export const RETRY_AFTER_MS = 500;
/** Outputs of remote and spawned calls stay readable this long after they complete. */
export const RESULT_TTL_MS = 24 * 60 * 60 * 1_000;
/** Outputs of a map call nobody has read for this long are dropped with the call. */
export const ABANDONED_MAP_TTL_MS = 60 * 60 * 1_000;
/** At most this many outputs in one outputs response (keeps responses well under RPC size limits). */
export const MAX_OUTPUTS_PER_READ = 1_000;
/** An input lost with its container this many times fails instead of trying again (it may be what kills them). */
export const MAX_CONTAINER_LOSSES = 3;
/** Consecutive start failures after which pending inputs fail instead of waiting for a container that never comes. */
export const MAX_START_FAILURES = 3;
/** At most this many bytes of results in one read of many calls' results (a result is up to ~1 MiB; RPC messages stop at 32 MiB). */
export const MAX_RESULT_BYTES_PER_READ = 8 * 1024 * 1024;

/** Whether `count` more remote/map inputs may be admitted to a pool with this config and these input counts. */
export function admission(config: PoolConfig | null, stopped: boolean, counts: { pendingCalls: number; running: number }, count: number): PoolResult<true> {
  if (!config) return fail({ code: "NOT_FOUND", message: "function not found" });
  if (stopped) return fail({ code: "CONFLICT", message: `app ${config.appName} is stopped; deploy it again to call it` });
  const name = config.functionName;
  if (counts.pendingCalls + count > MAX_PENDING_INPUTS) {
    return fail({
      code: "RESOURCE_EXHAUSTED",
      message: `function ${name} has ${counts.pendingCalls} inputs waiting for a container; the limit is ${MAX_PENDING_INPUTS}`,
      retryAfterMs: RETRY_AFTER_MS,
    });
  }
  if (counts.pendingCalls + counts.running + count > MAX_TOTAL_INPUTS) {
    return fail({
      code: "RESOURCE_EXHAUSTED",
      message: `function ${name} has ${counts.pendingCalls + counts.running} inputs pending or running; the limit is ${MAX_TOTAL_INPUTS}`,
      retryAfterMs: RETRY_AFTER_MS,
    });
  }
  return ok(true);
}

// Per-pool limits (docs/architecture.md "Limits and backpressure"). Past them the API answers 429
// RESOURCE_EXHAUSTED with Retry-After.

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

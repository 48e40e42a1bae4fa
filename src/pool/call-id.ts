// Call ids name the pool that holds the call: `fc-<pool's Durable Object id, 64 hex>-<16 hex>`.
// Any Worker can route a call-id request straight to its pool, with no lookup.
//
// The 16 hex are the minting millisecond (10 hex) and a sequence (6 hex), so a
// pool's call ids sort in the order they were minted. Its tables are indexed
// by call id, and keys that grow at one end keep each insert on the index's
// last pages: with random ids, 100 000 spawned calls drained at ~4,000/s,
// their index upkeep most of the pool's time; in order, at ~13,000/s.

const CALL_ID = /^fc-([0-9a-f]{64})-[0-9a-f]{16}$/;

/** The spelling a malformed id is told to have. */
export const CALL_ID_SHAPE = "fc-<64 hex>-<16 hex>";

const SEQUENCE_SPAN = 0x1000000;
/**
 * Tells apart the ids minted in one millisecond (a pool mints thousands at
 * once). It starts at random, so ids a pool mints after a restart in the same
 * millisecond (a clock set back) do not repeat earlier ones. (Drawn at the
 * first mint: Workers refuse random numbers in an isolate's global scope.)
 */
let sequence: number | null = null;

/** A new call id for a call held by the pool whose Durable Object id (hex) is `poolId`, minted at `nowMs`. */
export function mintCallId(poolId: string, nowMs: number): string {
  sequence = ((sequence ?? crypto.getRandomValues(new Uint32Array(1))[0]) + 1) % SEQUENCE_SPAN;
  const ms = Math.max(0, Math.floor(nowMs)) % 2 ** 40;
  return `fc-${poolId}-${ms.toString(16).padStart(10, "0")}${sequence.toString(16).padStart(6, "0")}`;
}

/** The id of the pool a call id names, or null for a string that is not a call id. */
export function poolIdOfCall(callId: string): string | null {
  return CALL_ID.exec(callId)?.[1] ?? null;
}

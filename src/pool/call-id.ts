// Call ids name the pool that holds the call: `fc-<pool's Durable Object id, 64 hex>-<8 random bytes, 16 hex>`.
// Any Worker can route a call-id request straight to its pool, with no lookup.
import { randomId } from "../auth/crypto";

const CALL_ID = /^fc-([0-9a-f]{64})-[0-9a-f]{16}$/;

/** The spelling a malformed id is told to have. */
export const CALL_ID_SHAPE = "fc-<64 hex>-<16 hex>";

/** A new call id for a call held by the pool whose Durable Object id (hex) is `poolId`. */
export function mintCallId(poolId: string): string {
  return `fc-${poolId}-${randomId("", 8)}`;
}

/** The id of the pool a call id names, or null for a string that is not a call id. */
export function poolIdOfCall(callId: string): string | null {
  return CALL_ID.exec(callId)?.[1] ?? null;
}

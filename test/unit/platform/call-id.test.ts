import { describe, expect, it } from "vitest";
import { mintCallId, poolIdOfCall } from "../../../src/pool/call-id";

const POOL = "ab".repeat(32);

describe("call ids", () => {
  it("name the pool that minted them", () => {
    const id = mintCallId(POOL, Date.now());
    expect(poolIdOfCall(id)).toBe(POOL);
    expect(mintCallId(POOL, Date.now())).not.toBe(id);
  });

  it("are told apart from strings that only look like them", () => {
    const id = mintCallId(POOL, Date.now());
    for (const bad of ["", "nope", "fc-123", `${id}0`, id.toUpperCase(), id.slice(0, -1), `fc-${"ab".repeat(31)}-${"0".repeat(16)}`, "fc-../../v1/apps"]) {
      expect(poolIdOfCall(bad)).toBeNull();
    }
  });

  it("sort in the order they were minted, across milliseconds and within one, and never repeat", () => {
    const t = Date.UTC(2026, 11, 1);
    const ids = [...Array.from({ length: 50_000 }, () => mintCallId(POOL, t)), mintCallId(POOL, t + 1), mintCallId(POOL, t + 60_000)];
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => poolIdOfCall(id) === POOL)).toBe(true);
    // A sequence that wraps within a millisecond is the only place order may break: at most once in 16 777 216 ids.
    const outOfOrder = ids.filter((id, i) => i > 0 && id < ids[i - 1]).length;
    expect(outOfOrder).toBeLessThanOrEqual(1);
  });
});

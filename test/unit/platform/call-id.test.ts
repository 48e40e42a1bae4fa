import { describe, expect, it } from "vitest";
import { mintCallId, poolIdOfCall } from "../../../src/pool/call-id";

const POOL = "ab".repeat(32);

describe("call ids", () => {
  it("name the pool that minted them", () => {
    const id = mintCallId(POOL);
    expect(poolIdOfCall(id)).toBe(POOL);
    expect(mintCallId(POOL)).not.toBe(id);
  });

  it("are told apart from strings that only look like them", () => {
    const id = mintCallId(POOL);
    for (const bad of ["", "nope", "fc-123", `${id}0`, id.toUpperCase(), id.slice(0, -1), `fc-${"ab".repeat(31)}-${"0".repeat(16)}`, "fc-../../v1/apps"]) {
      expect(poolIdOfCall(bad)).toBeNull();
    }
  });
});

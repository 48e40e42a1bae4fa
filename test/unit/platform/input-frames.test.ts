// A pool's inputs frame written directly (src/pool/input-frames.ts): the very
// bytes the wire codec writes for the same frame, so a runner cannot tell them apart.
import { describe, expect, it } from "vitest";
import { decode, encode } from "../../../sdk/src/wire/serialization";
import { inputsFrame, type FrameInput } from "../../../src/pool/input-frames";

/** Where CBOR heads change size. */
const EDGES = [0, 1, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1];

/** The frame as the fleet sent it before: an object, with `method` only where an input has one. */
function generic(inputs: readonly FrameInput[]): Uint8Array {
  return encode({ t: "inputs", inputs: inputs.map(({ id, method, args }) => (method === null ? { id, args } : { id, method, args })) });
}

function inputs(count: number, argsBytes: number, method: (i: number) => string | null): FrameInput[] {
  return Array.from({ length: count }, (_, i) => ({
    id: i < EDGES.length ? EDGES[i] : i,
    method: method(i),
    args: new Uint8Array(encode([i, "x".repeat(argsBytes)])),
  }));
}

describe("inputsFrame", () => {
  it("writes the bytes the wire codec writes, for every size of head, with and without methods", () => {
    for (const count of [0, 1, 23, 24, 300]) {
      for (const argsBytes of [0, 10, 30, 250, 70_000]) {
        for (const method of [() => null, () => "embed", (i: number) => (i % 2 ? "m".repeat(30) : null)]) {
          const frame = inputs(count, argsBytes, method);
          expect(Buffer.compare(inputsFrame(frame), generic(frame))).toBe(0);
        }
      }
    }
  });

  it("leaves to cbor-x what it does not write, and the runner reads the same inputs", () => {
    const args = new Uint8Array(encode([1]));
    for (const odd of [
      { id: 2 ** 32, method: null, args },
      { id: 1, method: "émbed", args },
    ]) {
      const decoded = decode<{ t: string; inputs: Array<{ id: number; method?: string; args: Uint8Array }> }>(inputsFrame([odd]));
      expect(decoded.t).toBe("inputs");
      expect(decoded.inputs.map((i) => ({ id: i.id, method: i.method ?? null, args: [...i.args] }))).toEqual([
        { id: odd.id, method: odd.method, args: [...args] },
      ]);
    }
  });
});

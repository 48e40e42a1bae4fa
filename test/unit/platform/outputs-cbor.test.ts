// The outputs' CBOR written directly (src/api/outputs-cbor.ts): the very bytes
// the wire codec writes for the same answer, so no client can tell them apart.
import { describe, expect, it } from "vitest";
import { decode, encode } from "../../../sdk/src/wire/serialization";
import type { OutputItem, OutputStatus } from "../../../sdk/src/wire/api";
import { encodeOutputs, type OutputsAnswer } from "../../../src/api/outputs-cbor";

const STATUSES: OutputStatus[] = ["success", "failure", "timeout", "cancelled", "platform_error"];
/** Where CBOR heads change size. */
const EDGES = [0, 1, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1];
/** Cursors are output batch positions (store.ts): past 2^32 soon, up to 2^53. */
const CURSORS = [...EDGES, 2 ** 32, 4_096 * 2 ** 20 + 17, 2 ** 53 - 1];

function output(i: number, valueBytes: number): OutputItem {
  return {
    idx: i < EDGES.length ? EDGES[i] : i,
    status: STATUSES[i % STATUSES.length],
    value: new Uint8Array(encode({ n: i, pad: "x".repeat(valueBytes) })),
  };
}

function answer(count: number, valueBytes: number, cursor: number, done: boolean, callId?: string, id?: number): OutputsAnswer {
  const outputs = Array.from({ length: count }, (_, i) => output(i, valueBytes));
  // Keys in the wire contract's order, as the generic encoder walks them (a channel's answer: its call's number first).
  const body = callId === undefined ? { outputs, cursor, done } : { callId, outputs, cursor, done };
  return id === undefined ? body : { id, ...body };
}

describe("encodeOutputs", () => {
  it("writes the bytes the wire codec writes, for every size of head", () => {
    for (const count of [0, 1, 23, 24, 300]) {
      for (const valueBytes of [0, 10, 30, 250, 70_000]) {
        for (const cursor of CURSORS) {
          for (const [callId, id] of [
            [undefined],
            [`fc-${"ab".repeat(32)}-${"0".repeat(16)}`],
            ["short"],
            ["short", 0],
            [`fc-${"ab".repeat(32)}-0`, EDGES[cursor % EDGES.length]],
          ] as const) {
            const a = answer(count, count > 24 && valueBytes > 1_000 ? 0 : valueBytes, cursor, cursor % 2 === 0, callId, id);
            const bytes = encodeOutputs(a);
            expect(bytes).not.toBeNull();
            // Byte for byte, so the SDK decodes exactly what it decoded before.
            expect(Buffer.compare(bytes!, encode(a))).toBe(0);
          }
        }
      }
    }
  });

  it("leaves to the generic encoder what it does not write (indexes past 2^32, unsafe or fractional cursors, unknown statuses, other byte types)", () => {
    const ok = answer(3, 5, 7, false);
    expect(decode(encodeOutputs(ok)!)).toEqual(ok);
    expect(decode<OutputsAnswer>(encodeOutputs({ ...ok, cursor: 2 ** 40 + 3 })!).cursor).toBe(2 ** 40 + 3);
    expect(encodeOutputs({ ...ok, cursor: 2 ** 53 })).toBeNull();
    expect(encodeOutputs({ ...ok, cursor: -1 })).toBeNull();
    expect(encodeOutputs({ ...ok, cursor: 1.5 })).toBeNull();
    expect(encodeOutputs({ ...ok, callId: "ünï" })).toBeNull();
    expect(encodeOutputs({ id: 2 ** 32, ...ok })).toBeNull();
    for (const bad of [{ idx: -1 }, { idx: 2 ** 40 }, { status: "odd" as OutputStatus }, { status: "toString" as OutputStatus }, { value: Buffer.from([1]) }]) {
      expect(encodeOutputs({ ...ok, outputs: [ok.outputs[0], { ...ok.outputs[1], ...bad }] })).toBeNull();
    }
  });
});

import { describe, it, expect } from "vitest";
import {
  MAX_BATCH_VALUE_BYTES,
  POSITIONS_PER_BATCH,
  batchOutputs,
  packOutputs,
  positionOf,
  splitPosition,
  unpackOutputs,
  type StoredOutput,
} from "../../../src/pool/output-batch";

const out = (idx: number, status: StoredOutput["status"], bytes: number[]): StoredOutput => ({ idx, status, value: new Uint8Array(bytes) });

describe("a call's outputs stored a batch per row", () => {
  it("packs and unpacks every status, index and value, in order", () => {
    const outputs = [
      out(0, "success", [1, 2, 3]),
      out(7, "failure", []),
      out(3, "timeout", [9]),
      out(2 ** 31, "cancelled", [0]),
      out(5, "platform_error", [4, 4]),
    ];
    const unpacked = unpackOutputs(packOutputs(outputs));
    expect(unpacked.map((o) => ({ ...o, value: [...o.value] }))).toEqual(outputs.map((o) => ({ ...o, value: [...o.value] })));
  });

  it("unpacks a batch read back at an offset inside a larger buffer", () => {
    const packed = packOutputs([out(1, "success", [5, 6])]);
    const inside = new Uint8Array(packed.byteLength + 3);
    inside.set(packed, 3);
    expect([...unpackOutputs(inside.subarray(3))[0].value]).toEqual([5, 6]);
  });

  it("refuses a corrupt batch instead of reading past it", () => {
    const packed = packOutputs([out(1, "success", [5, 6])]);
    expect(() => unpackOutputs(packed.subarray(0, packed.byteLength - 1))).toThrow(/corrupt/);
    const badStatus = packed.slice();
    badStatus[8] = 99;
    expect(() => unpackOutputs(badStatus)).toThrow(/corrupt/);
    expect(() => packOutputs([{ idx: 0, status: "nope" as StoredOutput["status"], value: new Uint8Array() }])).toThrow(/nope/);
  });

  it("closes a batch before its values pass the row limit, keeping a big value alone", () => {
    const half = new Array<number>(MAX_BATCH_VALUE_BYTES / 2).fill(1);
    const big = new Array<number>(MAX_BATCH_VALUE_BYTES + 10).fill(2);
    const batches = batchOutputs([out(0, "success", half), out(1, "success", half), out(2, "success", [1]), out(3, "success", big), out(4, "success", [])]);
    expect(batches.map((b) => b.map((o) => o.idx))).toEqual([[0, 1], [2], [3], [4]]);
    expect(batchOutputs([])).toEqual([]);
  });

  it("gives each output a cursor position after every earlier one", () => {
    expect(positionOf(1, 0)).toBe(POSITIONS_PER_BATCH);
    expect(positionOf(2, 0)).toBeGreaterThan(positionOf(1, POSITIONS_PER_BATCH - 1));
    expect(splitPosition(positionOf(5, 17))).toEqual({ batchSeq: 5, offset: 17 });
    expect(splitPosition(0)).toEqual({ batchSeq: 0, offset: 0 });
  });

  it("reads a cursor from before batches (an output's own seq) as past that whole batch", () => {
    expect(splitPosition(42)).toEqual({ batchSeq: 42, offset: POSITIONS_PER_BATCH - 1 });
  });
});

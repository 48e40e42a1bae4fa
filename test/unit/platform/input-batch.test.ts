// A map's inputs a batch per row: how a request is split into batches, how a
// claim takes inputs in id order across rows and batches, and the claims
// column a restarted pool reads back.
import { describe, it, expect } from "vitest";
import {
  MAX_BATCH_ARGS_BYTES,
  MAX_INPUTS_PER_BATCH,
  batchOf,
  claimLine,
  claimRuns,
  liveInputs,
  markGone,
  packArgs,
  parseClaims,
  pendingIn,
  splitIntoBatches,
  takeInIdOrder,
  type ClaimTake,
  type InputBatch,
} from "../../../src/pool/input-batch";
import { MAX_INPUT_ARGS_BYTES } from "../../../sdk/src/wire/api";

const inputs = (from: number, n: number, bytes = 1, method: string | null = null) =>
  Array.from({ length: n }, (_, k) => ({ idx: from + k, args: new Uint8Array(bytes).fill((from + k) & 0xff), method }));

function batch(firstId: number, count: number, next = 0): InputBatch {
  return {
    firstId,
    callId: `call-${firstId}`,
    method: null,
    firstIdx: 0,
    count,
    next,
    gone: new Uint8Array((count + 7) >> 3),
    goneCount: 0,
    offsets: packArgs(inputs(0, count).map((i) => i.args)).offsets,
  };
}

/** A claim's takes as ids: a row's id, or a batch input's. */
const ids = (taken: ClaimTake[], rowIds: number[]) => taken.map((t) => ("row" in t ? rowIds[t.row] : t.batch.firstId + t.offset));

describe("a request's inputs split into batches", () => {
  it("keeps inputs that count up by one, with one method, in one batch", () => {
    expect(splitIntoBatches(inputs(0, 500))).toEqual([[0, 500]]);
  });

  it("starts a new batch at a gap in idx, a change of method, the input limit or the byte limit", () => {
    expect(splitIntoBatches([...inputs(0, 3), ...inputs(10, 2)])).toEqual([
      [0, 3],
      [3, 5],
    ]);
    expect(splitIntoBatches([...inputs(0, 2, 1, "a"), ...inputs(2, 2, 1, "b")])).toEqual([
      [0, 2],
      [2, 4],
    ]);
    expect(splitIntoBatches(inputs(0, MAX_INPUTS_PER_BATCH + 1))).toEqual([
      [0, MAX_INPUTS_PER_BATCH],
      [MAX_INPUTS_PER_BATCH, MAX_INPUTS_PER_BATCH + 1],
    ]);
    const half = MAX_BATCH_ARGS_BYTES / 2;
    expect(splitIntoBatches(inputs(0, 3, half))).toEqual([
      [0, 2],
      [2, 3],
    ]);
  });

  it("gives an input bigger than a batch's bytes a batch of its own", () => {
    const big = inputs(1, 1, MAX_INPUT_ARGS_BYTES);
    expect(splitIntoBatches([...inputs(0, 1), ...big, ...inputs(2, 1)])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
  });

  it("packs arguments end to end, found again by their offsets", () => {
    const args = [new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3])];
    const { packed, offsets } = packArgs(args);
    expect([...packed]).toEqual([1, 2, 3]);
    expect(args.map((_, k) => [...packed.subarray(offsets[k], offsets[k + 1])])).toEqual([[1, 2], [], [3]]);
  });
});

describe("a claim's inputs, in id order", () => {
  it("merges pending rows with batches' inputs by id, up to the limit", () => {
    const batches = [batch(10, 4), batch(20, 3)];
    const rowIds = [5, 12, 21, 30];
    expect(ids(takeInIdOrder(batches, rowIds, 100), rowIds)).toEqual([5, 10, 11, 12, 12, 13, 20, 21, 21, 22, 30]);
    expect(ids(takeInIdOrder(batches, rowIds, 4), rowIds)).toEqual([5, 10, 11, 12]);
  });

  it("starts each batch at its next input and skips inputs gone before their turn", () => {
    const first = batch(10, 5, 2);
    markGone(first, 3);
    expect(ids(takeInIdOrder([first], [], 10), [])).toEqual([12, 14]);
    expect(takeInIdOrder([batch(10, 2, 2)], [], 10)).toEqual([]);
  });

  it("claims one run per batch, from its next input to just past the last taken", () => {
    const first = batch(10, 5, 1);
    const second = batch(20, 5);
    markGone(first, 2);
    const runs = claimRuns(takeInIdOrder([first, second], [], 5));
    expect([...runs.entries()].map(([b, run]) => [b.firstId, run])).toEqual([
      [10, { start: 1, end: 5 }],
      [20, { start: 0, end: 2 }],
    ]);
  });

  it("finds the batch holding an id, or none", () => {
    const batches = [batch(10, 4), batch(14, 1), batch(40, 3)];
    expect([9, 10, 13, 14, 15, 39, 42, 43].map((id) => batchOf(batches, id)?.firstId ?? null)).toEqual([null, 10, 10, 14, null, null, 40, null]);
  });

  it("lists the inputs not gone, claimed or waiting", () => {
    const b = batch(10, 4, 2);
    markGone(b, 0);
    expect(markGone(b, 0)).toBe(false);
    expect(b.goneCount).toBe(1);
    expect([...liveInputs(b)].map((i) => [i.id, i.claimed])).toEqual([
      [11, true],
      [12, false],
      [13, false],
    ]);
  });

  it("counts the inputs still waiting for a claim: from next on, gone ones left out", () => {
    const b = batch(10, 5, 2);
    expect(pendingIn(b)).toBe(3);
    markGone(b, 0); // claimed before: not waiting anyway
    markGone(b, 3);
    expect(pendingIn(b)).toBe(2);
    b.next = 5;
    expect(pendingIn(b)).toBe(0);
  });
});

describe("the claims column", () => {
  it("reads back every claim as written, whatever the container id holds", () => {
    const claims = [
      { containerId: "c-1", start: 0, end: 100, deadline: 1_000 },
      { containerId: 'odd\n"id"\t', start: 100, end: 101, deadline: null },
    ];
    expect(parseClaims(claims.map(claimLine).join(""))).toEqual(claims);
    expect(parseClaims("")).toEqual([]);
  });
});

// A map's inputs, stored a batch per row (the input half of
// issue #14's storage change; outputs and history are already batches): the
// inputs of one putInputs request are one row holding their arguments packed
// end to end, a count of how many have been claimed, the claims themselves
// (which container runs which run of inputs, and until when), and a bit per
// input that is gone (finished, cancelled, or moved to a row of its own in
// `inputs` to be retried or put back). A frame of 100 inputs is then claimed
// and ended with a statement per batch it touches, where a row per input
// cost an insert, a claim and a delete each, with their index entries.
//
// Input ids are one sequence across both tables: a batch holds the ids
// firstId … firstId + count - 1, and PoolStore hands out every id (rows too)
// from one counter that is never handed out twice (see nextInputId there).
//
// Pure: the batches' bookkeeping in memory, and how a claim takes inputs
// in id order; store-input-batches.ts runs their statements, and which
// claimed inputs are running is PoolStore's `running` map, as for rows.

/** Inputs per batch row: a bitset of 128 bytes, and claims that stay short. */
export const MAX_INPUTS_PER_BATCH = 1_024;
/**
 * Bytes of arguments per batch row, under the 2 MB a Durable Object's SQLite
 * row may hold; an input bigger than this (up to MAX_INPUT_ARGS_BYTES) is a
 * batch of its own.
 */
export const MAX_BATCH_ARGS_BYTES = 1024 * 1024;

export interface InputBatch {
  firstId: number;
  callId: string;
  method: string | null;
  /** The idx of its first input; the rest count up by one. */
  firstIdx: number;
  count: number;
  /** Inputs below this offset have been claimed (or were gone before their turn). */
  next: number;
  /** A bit per input: finished, cancelled, or moved to a row of its own. */
  gone: Uint8Array;
  goneCount: number;
  /** Input k's arguments are bytes offsets[k] … offsets[k + 1] of the packed column. */
  offsets: Uint32Array;
}

/** A claim of inputs from `start` up to (not including) `end` by a container, as the claims column keeps them. */
export interface BatchClaim {
  containerId: string;
  start: number;
  end: number;
  /** null for inputs sent ahead of a free slot (their timeout starts when they start). */
  deadline: number | null;
}

/** A claimed input of a batch, where its claim put it. */
export type ClaimedInput = { offset: number; containerId: string; deadline: number | null };

export const isGone = (b: InputBatch, offset: number): boolean => (b.gone[offset >> 3] & (1 << (offset & 7))) !== 0;

/** Marks an input gone; false if it already was. */
export function markGone(b: InputBatch, offset: number): boolean {
  if (isGone(b, offset)) return false;
  b.gone[offset >> 3] |= 1 << (offset & 7);
  b.goneCount++;
  return true;
}

/** A batch's inputs still waiting for a claim: from its `next` on, gone ones left out. */
export function pendingIn(b: InputBatch): number {
  let n = 0;
  for (let k = b.next; k < b.count; k++) if (!isGone(b, k)) n++;
  return n;
}

/** The batch holding input `id`, found by binary search over batches in id order. */
export function batchOf(batches: readonly InputBatch[], id: number): InputBatch | null {
  let lo = 0;
  let hi = batches.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const b = batches[mid];
    if (id < b.firstId) hi = mid - 1;
    else if (id >= b.firstId + b.count) lo = mid + 1;
    else return b;
  }
  return null;
}

/** One input a claim takes: the row at `row` in the rows given, or a batch's input at `offset`. */
export type ClaimTake = { row: number } | { batch: InputBatch; offset: number };

/**
 * Up to `limit` pending inputs, oldest (lowest id) first: pending rows (their
 * ids ascending) merged with each batch's inputs from its `next` on, gone
 * ones skipped.
 */
export function takeInIdOrder(batches: readonly InputBatch[], rowIds: readonly number[], limit: number): ClaimTake[] {
  const taken: ClaimTake[] = [];
  let r = 0;
  for (const batch of batches) {
    for (let k = batch.next; k < batch.count && taken.length < limit; k++) {
      if (isGone(batch, k)) continue;
      while (r < rowIds.length && rowIds[r] < batch.firstId + k && taken.length < limit) taken.push({ row: r++ });
      if (taken.length < limit) taken.push({ batch, offset: k });
    }
    if (taken.length >= limit) break;
  }
  while (r < rowIds.length && taken.length < limit) taken.push({ row: r++ });
  return taken;
}

/** The run each batch gives a claim: from its `next` to just past the last input taken from it. */
export function claimRuns(taken: readonly ClaimTake[]): Map<InputBatch, { start: number; end: number }> {
  const runs = new Map<InputBatch, { start: number; end: number }>();
  for (const t of taken) {
    if (!("batch" in t)) continue;
    const run = runs.get(t.batch);
    if (run) run.end = t.offset + 1;
    else runs.set(t.batch, { start: t.batch.next, end: t.offset + 1 });
  }
  return runs;
}

/** A batch's inputs that are not gone, in order, and whether each has been claimed (what cancellation lists). */
export function* liveInputs(batch: InputBatch): Generator<{ offset: number; id: number; idx: number; claimed: boolean }> {
  for (let k = 0; k < batch.count; k++) {
    if (!isGone(batch, k)) yield { offset: k, id: batch.firstId + k, idx: batch.firstIdx + k, claimed: k < batch.next };
  }
}

/**
 * Splits a request's inputs into batches: a new one at a gap in idx, a
 * change of method, MAX_INPUTS_PER_BATCH, or MAX_BATCH_ARGS_BYTES of
 * arguments. Returns index ranges into `inputs`.
 */
export function splitIntoBatches(inputs: ReadonlyArray<{ idx: number; args: Uint8Array; method?: string | null }>): Array<[start: number, end: number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < inputs.length; i++) {
    const size = inputs[i].args.byteLength;
    const breaks =
      i > start &&
      (inputs[i].idx !== inputs[i - 1].idx + 1 ||
        (inputs[i].method ?? null) !== (inputs[start].method ?? null) ||
        i - start >= MAX_INPUTS_PER_BATCH ||
        bytes + size > MAX_BATCH_ARGS_BYTES);
    if (breaks) {
      out.push([start, i]);
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (inputs.length > start) out.push([start, inputs.length]);
  return out;
}

/** Packs arguments end to end, with the offsets that find each again. */
export function packArgs(args: readonly Uint8Array[]): { packed: Uint8Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(args.length + 1);
  for (let k = 0; k < args.length; k++) offsets[k + 1] = offsets[k] + args[k].byteLength;
  const packed = new Uint8Array(offsets[args.length]);
  for (let k = 0; k < args.length; k++) packed.set(args[k], offsets[k]);
  return { packed, offsets };
}

/** One claim as a line of the claims column (JSON escapes newlines, so any container id is safe). */
export const claimLine = (c: BatchClaim): string => `${JSON.stringify([c.containerId, c.start, c.end, c.deadline])}\n`;

export function parseClaims(text: string): BatchClaim[] {
  const out: BatchClaim[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const [containerId, start, end, deadline] = JSON.parse(line) as [string, number, number, number | null];
    out.push({ containerId, start, end, deadline });
  }
  return out;
}

// A frame's outputs for one call, packed into one stored row (store.ts
// `output_batches`): the pool writes, reads and deletes outputs a batch at a
// time instead of a row and three index entries per output. Pure: no I/O.
//
// Layout: u32 count, then per output u32 idx, u8 status, u32 value length,
// value bytes (little-endian).
import type { OutputStatus } from "../../sdk/src/wire/api";

export interface StoredOutput {
  idx: number;
  status: OutputStatus;
  value: Uint8Array;
}

const STATUSES: readonly OutputStatus[] = ["success", "failure", "timeout", "cancelled", "platform_error"];
const STATUS_CODE = new Map(STATUSES.map((s, i) => [s, i]));
const HEADER_BYTES = 4;
const ENTRY_HEADER_BYTES = 9;

/**
 * Values packed into one row at most: Durable Object SQLite refuses rows over
 * 2 MB, and one value may be ~1 MiB, so a batch closes past 1 MiB (a single
 * larger value still gets a row of its own).
 */
export const MAX_BATCH_VALUE_BYTES = 1024 * 1024;

/**
 * Where an output sits, as the cursor a client passes back: the batch's seq
 * times this, plus the output's place in its batch. A batch holds far fewer
 * outputs, and seq stays below 2^33 before the cursor passes 2^53.
 */
export const POSITIONS_PER_BATCH = 2 ** 20;

export function positionOf(batchSeq: number, offset: number): number {
  return batchSeq * POSITIONS_PER_BATCH + offset;
}

/**
 * The batch and offset a cursor points at. A cursor below one batch's worth is
 * from before batches (an output row's own seq, which became its batch's seq):
 * it points past everything in that batch.
 */
export function splitPosition(cursor: number): { batchSeq: number; offset: number } {
  if (cursor > 0 && cursor < POSITIONS_PER_BATCH) return { batchSeq: cursor, offset: POSITIONS_PER_BATCH - 1 };
  return { batchSeq: Math.floor(cursor / POSITIONS_PER_BATCH), offset: cursor % POSITIONS_PER_BATCH };
}

/** Splits outputs into batches that each fit a row, in order. */
export function batchOutputs<T extends StoredOutput>(outputs: readonly T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const o of outputs) {
    if (current.length > 0 && (bytes + o.value.byteLength > MAX_BATCH_VALUE_BYTES || current.length >= POSITIONS_PER_BATCH)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(o);
    bytes += o.value.byteLength;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** The batch's bytes, over a buffer of their own and of exactly their size (stored as it is, not copied again). */
export function packOutputs(outputs: readonly StoredOutput[]): Uint8Array<ArrayBuffer> {
  let size = HEADER_BYTES;
  for (const o of outputs) size += ENTRY_HEADER_BYTES + o.value.byteLength;
  const packed = new Uint8Array(size);
  const view = new DataView(packed.buffer);
  view.setUint32(0, outputs.length, true);
  let at = HEADER_BYTES;
  for (const o of outputs) {
    const code = STATUS_CODE.get(o.status);
    if (code === undefined) throw new Error(`unknown output status ${JSON.stringify(o.status)}`);
    view.setUint32(at, o.idx, true);
    view.setUint8(at + 4, code);
    view.setUint32(at + 5, o.value.byteLength, true);
    packed.set(o.value, at + ENTRY_HEADER_BYTES);
    at += ENTRY_HEADER_BYTES + o.value.byteLength;
  }
  return packed;
}

/** The outputs of a packed batch; each value is a view into `packed`. */
export function unpackOutputs(packed: Uint8Array): StoredOutput[] {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const count = view.getUint32(0, true);
  const outputs: StoredOutput[] = new Array(count);
  let at = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const length = view.getUint32(at + 5, true);
    const status = STATUSES[view.getUint8(at + 4)];
    if (status === undefined || at + ENTRY_HEADER_BYTES + length > packed.byteLength) throw new Error("a stored output batch is corrupt");
    outputs[i] = { idx: view.getUint32(at, true), status, value: packed.subarray(at + ENTRY_HEADER_BYTES, at + ENTRY_HEADER_BYTES + length) };
    at += ENTRY_HEADER_BYTES + length;
  }
  return outputs;
}

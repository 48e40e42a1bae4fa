// CBOR of a call's outputs (the getOutputs and createCall answers, and a call
// channel's answers, which carry their call's number first), written
// straight into one buffer of the right size (cbor-writer.ts: the bytes
// cbor-x writes for the same answer). Each output's value is CBOR already
// (the pool stores it so); the answer only wraps it.
import type { OutputItem, OutputStatus } from "../../sdk/src/wire/api";
import { CborWriter, headSize, isAscii, isPlainBytes, isUint32, keyBytes, TAG_UINT8ARRAY } from "../../sdk/src/wire/cbor-writer";
import { encode } from "../../sdk/src/wire/serialization";

export interface OutputsAnswer {
  /** A call channel's answer: the number of the call it answers (sdk/src/wire/channel.ts). */
  id?: number;
  /** createCall's answer names the call it started. */
  callId?: string;
  outputs: readonly OutputItem[];
  cursor: number;
  done: boolean;
}

/** Each key with its CBOR text-string header, as written before its value. */
const KEY = {
  id: keyBytes("id"),
  callId: keyBytes("callId"),
  outputs: keyBytes("outputs"),
  cursor: keyBytes("cursor"),
  done: keyBytes("done"),
  idx: keyBytes("idx"),
  status: keyBytes("status"),
  value: keyBytes("value"),
};

/** Each status as a CBOR text string. */
const STATUS: Readonly<Record<string, Uint8Array>> = {
  success: keyBytes("success"),
  failure: keyBytes("failure"),
  timeout: keyBytes("timeout"),
  cancelled: keyBytes("cancelled"),
  platform_error: keyBytes("platform_error"),
} satisfies Record<OutputStatus, Uint8Array>;

/** A cursor is a whole number up to 2^53 (an output batch's seq times 2^20, plus a place in it: store.ts). */
const isCursor = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

/** The answer's CBOR: written by encodeOutputs, or the general way for what it does not cover. */
export function outputsCbor(answer: OutputsAnswer): Uint8Array {
  return encodeOutputs(answer) ?? encode(answer);
}

/**
 * The answer's CBOR, or null when some field is outside what this writes
 * (a number past 2^32, a status it does not know, a call id that is not
 * printable ASCII, a value that is not a plain Uint8Array): the caller encodes that
 * answer the general way.
 */
export function encodeOutputs(answer: OutputsAnswer): Uint8Array | null {
  const { id, callId, outputs, cursor, done } = answer;
  if (!isCursor(cursor) || typeof done !== "boolean" || (callId !== undefined && !isAscii(callId)) || (id !== undefined && !isUint32(id))) return null;
  let size = 3 + KEY.outputs.length + headSize(outputs.length) + KEY.cursor.length + (isUint32(cursor) ? headSize(cursor) : 9) + KEY.done.length + 1;
  if (callId !== undefined) size += KEY.callId.length + headSize(callId.length) + callId.length;
  if (id !== undefined) size += KEY.id.length + headSize(id);
  for (const output of outputs) {
    const { idx, status, value } = output;
    if (!isUint32(idx) || !Object.hasOwn(STATUS, status) || !isPlainBytes(value)) return null;
    size += 3 + KEY.idx.length + headSize(idx) + KEY.status.length + STATUS[status].length;
    size += KEY.value.length + TAG_UINT8ARRAY.length + headSize(value.byteLength) + value.byteLength;
  }

  const w = new CborWriter(size);
  w.map16(3 + (callId === undefined ? 0 : 1) + (id === undefined ? 0 : 1));
  if (id !== undefined) {
    w.bytes(KEY.id);
    w.head(0, id);
  }
  if (callId !== undefined) {
    w.bytes(KEY.callId);
    w.text(callId);
  }
  w.bytes(KEY.outputs);
  w.head(4, outputs.length);
  for (const { idx, status, value } of outputs) {
    w.map16(3);
    w.bytes(KEY.idx);
    w.head(0, idx);
    w.bytes(KEY.status);
    w.bytes(STATUS[status]);
    w.bytes(KEY.value);
    w.taggedBytes(value);
  }
  w.bytes(KEY.cursor);
  if (isUint32(cursor)) w.head(0, cursor);
  else w.float64(cursor); // past 2^32 cbor-x writes a whole number as a float64, exact up to 2^53
  w.bytes(KEY.done);
  w.bytes([done ? 0xf5 : 0xf4]);
  return w.out;
}

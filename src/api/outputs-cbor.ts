// CBOR of a call's outputs (the getOutputs and createCall answers, and a call
// channel's answers, which carry their call's number first), written
// straight into one buffer of the right size. Each output's value is CBOR
// already (the pool stores it so); the answer only wraps it. These are the
// bytes cbor-x writes for the same answer with the wire codec's options (maps
// with a 16-bit count, byte strings tagged 64, integers up to 2^32 as
// integers and larger cursors as float64), without its generic walk over every field of every output.
import type { OutputItem, OutputStatus } from "../../sdk/src/wire/api";
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

/** Map with a 16-bit count (cbor-x writes every object so), and the tag cbor-x puts before a Uint8Array. */
const MAP16 = 0xb9;
const TAG_UINT8ARRAY = [0xd8, 0x40];

/** A short ASCII string (under 24 characters) as CBOR text. */
function keyBytes(key: string): Uint8Array {
  return Uint8Array.from([0x60 | key.length, ...Array.from(key, (ch) => ch.charCodeAt(0))]);
}

/** Bytes of a CBOR head (major type, argument) for an argument below 2^32. */
function headSize(n: number): number {
  return n < 0x18 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

const isUint32 = (n: unknown): n is number => typeof n === "number" && n >>> 0 === n;
/** A cursor is a whole number up to 2^53 (an output batch's seq times 2^20, plus a place in it: store.ts). */
const isCursor = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
/** Printable ASCII: one byte per character in UTF-8 (a call id always is). */
const isAscii = (s: unknown): s is string => typeof s === "string" && /^[ -~]*$/.test(s);

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
    if (!isUint32(idx) || !Object.hasOwn(STATUS, status) || !(value instanceof Uint8Array) || value.constructor !== Uint8Array) return null;
    size += 3 + KEY.idx.length + headSize(idx) + KEY.status.length + STATUS[status].length;
    size += KEY.value.length + TAG_UINT8ARRAY.length + headSize(value.byteLength) + value.byteLength;
  }

  const out = new Uint8Array(size);
  let at = 0;
  const bytes = (b: ArrayLike<number>): void => {
    // A loop beats set() on the few bytes of a key or a head.
    if (b.length > 16) out.set(b, at);
    else for (let i = 0; i < b.length; i++) out[at + i] = b[i];
    at += b.length;
  };
  const head = (major: number, n: number): void => {
    const type = major << 5;
    if (n < 0x18) out[at++] = type | n;
    else if (n < 0x100) {
      out[at++] = type | 0x18;
      out[at++] = n;
    } else if (n < 0x10000) {
      out[at++] = type | 0x19;
      out[at++] = n >> 8;
      out[at++] = n & 0xff;
    } else {
      out[at++] = type | 0x1a;
      out[at++] = n >>> 24;
      out[at++] = (n >> 16) & 0xff;
      out[at++] = (n >> 8) & 0xff;
      out[at++] = n & 0xff;
    }
  };
  const text = (s: string): void => {
    head(3, s.length);
    for (let i = 0; i < s.length; i++) out[at++] = s.charCodeAt(i);
  };
  const map16 = (count: number): void => bytes([MAP16, 0, count]);

  map16(3 + (callId === undefined ? 0 : 1) + (id === undefined ? 0 : 1));
  if (id !== undefined) {
    bytes(KEY.id);
    head(0, id);
  }
  if (callId !== undefined) {
    bytes(KEY.callId);
    text(callId);
  }
  bytes(KEY.outputs);
  head(4, outputs.length);
  for (const { idx, status, value } of outputs) {
    map16(3);
    bytes(KEY.idx);
    head(0, idx);
    bytes(KEY.status);
    bytes(STATUS[status]);
    bytes(KEY.value);
    bytes(TAG_UINT8ARRAY);
    head(2, value.byteLength);
    bytes(value);
  }
  bytes(KEY.cursor);
  if (isUint32(cursor)) head(0, cursor);
  else {
    // Past 2^32 cbor-x writes a whole number as a float64, exact up to 2^53.
    out[at++] = 0xfb;
    new DataView(out.buffer).setFloat64(at, cursor);
    at += 8;
  }
  bytes(KEY.done);
  out[at++] = done ? 0xf5 : 0xf4;
  return out;
}

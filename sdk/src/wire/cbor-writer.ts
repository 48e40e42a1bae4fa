// A CBOR writer for the wire's hottest messages (a read's outputs, a pool's
// inputs to a runner): the caller sizes the message first, then writes it
// straight into one buffer, without cbor-x's generic walk over every field.
// It writes what cbor-x writes with the wire codec's options (serialization.ts):
// maps with a 16-bit count, byte strings tagged 64 (a Uint8Array), whole
// numbers up to 2^32 as integers.

/** Map with a 16-bit count (cbor-x writes every object so), and the tag cbor-x puts before a Uint8Array. */
export const MAP16 = 0xb9;
export const TAG_UINT8ARRAY: readonly number[] = [0xd8, 0x40];

/** A short ASCII string (under 24 characters) as CBOR text. */
export function keyBytes(key: string): Uint8Array {
  return Uint8Array.from([0x60 | key.length, ...Array.from(key, (ch) => ch.charCodeAt(0))]);
}

/** Bytes of a CBOR head (major type, argument) for an argument below 2^32. */
export function headSize(n: number): number {
  return n < 0x18 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

export const isUint32 = (n: unknown): n is number => typeof n === "number" && n >>> 0 === n;
/** Printable ASCII: one byte per character in UTF-8. */
export const isAscii = (s: unknown): s is string => typeof s === "string" && /^[ -~]*$/.test(s);
/** A plain Uint8Array (not a Buffer or another view class, which cbor-x may write otherwise). */
export const isPlainBytes = (b: unknown): b is Uint8Array => b instanceof Uint8Array && b.constructor === Uint8Array;

export class CborWriter {
  readonly out: Uint8Array<ArrayBuffer>;
  private at = 0;

  constructor(size: number) {
    this.out = new Uint8Array(size);
  }

  bytes(b: ArrayLike<number>): void {
    // A loop beats set() on the few bytes of a key or a head.
    if (b.length > 16) this.out.set(b, this.at);
    else for (let i = 0; i < b.length; i++) this.out[this.at + i] = b[i];
    this.at += b.length;
  }

  /** A head whose argument is below 2^32 (headSize bytes). */
  head(major: number, n: number): void {
    const out = this.out;
    const type = major << 5;
    if (n < 0x18) out[this.at++] = type | n;
    else if (n < 0x100) {
      out[this.at++] = type | 0x18;
      out[this.at++] = n;
    } else if (n < 0x10000) {
      out[this.at++] = type | 0x19;
      out[this.at++] = n >> 8;
      out[this.at++] = n & 0xff;
    } else {
      out[this.at++] = type | 0x1a;
      out[this.at++] = n >>> 24;
      out[this.at++] = (n >> 16) & 0xff;
      out[this.at++] = (n >> 8) & 0xff;
      out[this.at++] = n & 0xff;
    }
  }

  /** ASCII text (isAscii): headSize(length) + length bytes. */
  text(s: string): void {
    this.head(3, s.length);
    for (let i = 0; i < s.length; i++) this.out[this.at++] = s.charCodeAt(i);
  }

  map16(count: number): void {
    this.bytes([MAP16, 0, count]);
  }

  /** A Uint8Array as cbor-x writes it: TAG_UINT8ARRAY, then the byte string (2 + headSize(length) + length bytes). */
  taggedBytes(b: Uint8Array): void {
    this.bytes(TAG_UINT8ARRAY);
    this.head(2, b.byteLength);
    this.bytes(b);
  }

  /** A whole number past 2^32 as cbor-x writes it: a float64, exact up to 2^53 (9 bytes). */
  float64(n: number): void {
    this.out[this.at++] = 0xfb;
    new DataView(this.out.buffer).setFloat64(this.at, n);
    this.at += 8;
  }
}

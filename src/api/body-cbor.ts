// The call routes' request bodies read straight from their CBOR. A map's
// batch of inputs is a map holding an array of small maps ({ idx, args }):
// a handful of CBOR types, which this reads without cbor-x's generic
// machinery (a fresh string for every key of every input, a second view for
// every tagged byte string). It gives what cbor-x gives for the same bytes
// (the wire codec's options: maps as objects, byte strings tagged 64 or not
// as views into the body); anything else it leaves to cbor-x.

/** Nesting deeper than a call body's (map, inputs, input) is not one: cbor-x judges it. */
const MAX_DEPTH = 4;
/** Keys every input and body repeats: matched by their bytes instead of decoded each time. */
const KNOWN_KEYS = ["idx", "args", "inputs", "closed", "kind", "method", "params", "variant", "waitMs", "requestId"];
const KEYS_BY_LENGTH: Array<Array<{ key: string; bytes: Uint8Array }> | undefined> = [];
for (const key of KNOWN_KEYS) (KEYS_BY_LENGTH[key.length] ??= []).push({ key, bytes: Uint8Array.from(key, (ch) => ch.charCodeAt(0)) });

/** Thrown inside the reader for bytes it does not take; never escapes decodeCallBody. */
const NOT_MINE = Symbol("not a call body this reader takes");

/**
 * The object cbor-x decodes from `bytes`, when they are one map holding only
 * unsigned integers below 2^32, booleans, null, undefined, ASCII text, byte
 * strings (tagged 64 or not), arrays and maps with text keys, at most
 * MAX_DEPTH deep; null otherwise (the caller decodes with cbor-x).
 */
export function decodeCallBody(bytes: Uint8Array): Record<string, unknown> | null {
  if (bytes.length === 0 || bytes[0] >> 5 !== 5) return null;
  const reader = new Reader(bytes);
  try {
    const value = reader.item(0) as Record<string, unknown>;
    return reader.at === bytes.length ? value : null;
  } catch (err) {
    if (err === NOT_MINE) return null;
    throw err;
  }
}

class Reader {
  at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  /** The argument of the head whose additional info is `info`: 0-23 inline, else 1, 2 or 4 bytes. */
  argument(info: number): number {
    const { bytes, at } = this;
    if (info < 24) return info;
    if (info === 24 && at + 1 <= bytes.length) {
      this.at = at + 1;
      return bytes[at];
    }
    if (info === 25 && at + 2 <= bytes.length) {
      this.at = at + 2;
      return (bytes[at] << 8) | bytes[at + 1];
    }
    if (info === 26 && at + 4 <= bytes.length) {
      this.at = at + 4;
      return bytes[at] * 0x1000000 + ((bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]);
    }
    throw NOT_MINE; // 64-bit arguments, indefinite lengths, reserved values, or cut short
  }

  text(length: number): string {
    const { bytes, at } = this;
    if (length > bytes.length - at) throw NOT_MINE;
    const known = KEYS_BY_LENGTH[length];
    if (known !== undefined) {
      for (let k = 0; k < known.length; k++) {
        const key = known[k].bytes;
        let i = 0;
        while (i < length && bytes[at + i] === key[i]) i++;
        if (i === length) {
          this.at = at + length;
          return known[k].key;
        }
      }
    }
    let s = "";
    for (let i = 0; i < length; i++) {
      const byte = bytes[at + i];
      if (byte >= 0x80) throw NOT_MINE; // UTF-8 beyond ASCII: cbor-x's to decode
      s += String.fromCharCode(byte);
    }
    this.at = at + length;
    return s;
  }

  byteString(length: number): Uint8Array {
    const { bytes, at } = this;
    if (length > bytes.length - at) throw NOT_MINE;
    this.at = at + length;
    return bytes.subarray(at, at + length);
  }

  item(depth: number): unknown {
    const bytes = this.bytes;
    if (this.at >= bytes.length || depth > MAX_DEPTH) throw NOT_MINE;
    const head = bytes[this.at++];
    const info = head & 0x1f;
    switch (head >> 5) {
      case 0:
        return this.argument(info);
      case 2:
        return this.byteString(this.argument(info));
      case 3:
        return this.text(this.argument(info));
      case 4: {
        const length = this.argument(info);
        if (length > bytes.length - this.at) throw NOT_MINE; // every item takes a byte at least
        const list = new Array<unknown>(length);
        for (let i = 0; i < length; i++) list[i] = this.item(depth + 1);
        return list;
      }
      case 5: {
        const size = this.argument(info);
        if (size > bytes.length - this.at) throw NOT_MINE;
        const fields: Record<string, unknown> = {};
        for (let i = 0; i < size; i++) {
          if (this.at >= bytes.length || bytes[this.at] >> 5 !== 3) throw NOT_MINE; // keys are text here
          const key = this.text(this.argument(bytes[this.at++] & 0x1f));
          if (key === "__proto__") throw NOT_MINE; // cbor-x renames it
          fields[key] = this.item(depth + 1);
        }
        return fields;
      }
      case 6:
        // Tag 64 (a Uint8Array) on a byte string: what the wire codec writes for bytes.
        if (head === 0xd8 && bytes[this.at] === 0x40 && this.at + 1 < bytes.length && bytes[this.at + 1] >> 5 === 2) {
          this.at += 2;
          return this.byteString(this.argument(bytes[this.at - 1] & 0x1f));
        }
        throw NOT_MINE;
      case 7:
        if (head === 0xf4) return false;
        if (head === 0xf5) return true;
        if (head === 0xf6) return null;
        if (head === 0xf7) return undefined;
        throw NOT_MINE;
      default:
        throw NOT_MINE; // negative integers
    }
  }
}

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
const KEYS_BY_LENGTH = new Map<number, string[]>();
for (const key of KNOWN_KEYS) KEYS_BY_LENGTH.set(key.length, [...(KEYS_BY_LENGTH.get(key.length) ?? []), key]);

/** Thrown inside the reader for bytes it does not take; never escapes decodeCallBody. */
const NOT_MINE = Symbol("not a call body this reader takes");

/**
 * The object cbor-x decodes from `bytes`, when they are one map holding only
 * unsigned integers below 2^32, booleans, null, undefined, ASCII text, byte
 * strings (tagged 64 or not), arrays and maps with text keys, at most
 * MAX_DEPTH deep; null otherwise (the caller decodes with cbor-x).
 */
export function decodeCallBody(bytes: Uint8Array): Record<string, unknown> | null {
  let at = 0;

  /** The argument of the head whose additional info is `info`: 0-23 inline, else 1, 2 or 4 bytes. */
  const argument = (info: number): number => {
    if (info < 24) return info;
    if (info === 24 && at + 1 <= bytes.length) return bytes[at++];
    if (info === 25 && at + 2 <= bytes.length) {
      const n = (bytes[at] << 8) | bytes[at + 1];
      at += 2;
      return n;
    }
    if (info === 26 && at + 4 <= bytes.length) {
      const n = bytes[at] * 0x1000000 + ((bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]);
      at += 4;
      return n;
    }
    throw NOT_MINE; // 64-bit arguments, indefinite lengths, reserved values, or cut short
  };

  const text = (length: number): string => {
    if (length > bytes.length - at) throw NOT_MINE;
    for (const key of KEYS_BY_LENGTH.get(length) ?? []) {
      let same = true;
      for (let i = 0; i < length && same; i++) same = bytes[at + i] === key.charCodeAt(i);
      if (same) {
        at += length;
        return key;
      }
    }
    let s = "";
    for (let i = 0; i < length; i++) {
      const byte = bytes[at + i];
      if (byte >= 0x80) throw NOT_MINE; // UTF-8 beyond ASCII: cbor-x's to decode
      s += String.fromCharCode(byte);
    }
    at += length;
    return s;
  };

  const byteString = (length: number): Uint8Array => {
    if (length > bytes.length - at) throw NOT_MINE;
    const view = bytes.subarray(at, at + length);
    at += length;
    return view;
  };

  const item = (depth: number): unknown => {
    if (at >= bytes.length || depth > MAX_DEPTH) throw NOT_MINE;
    const head = bytes[at++];
    const major = head >> 5;
    const info = head & 0x1f;
    switch (major) {
      case 0:
        return argument(info);
      case 2:
        return byteString(argument(info));
      case 3:
        return text(argument(info));
      case 4: {
        const length = argument(info);
        if (length > bytes.length - at) throw NOT_MINE; // every item takes a byte at least
        const list = new Array<unknown>(length);
        for (let i = 0; i < length; i++) list[i] = item(depth + 1);
        return list;
      }
      case 5: {
        const size = argument(info);
        if (size > bytes.length - at) throw NOT_MINE;
        const fields: Record<string, unknown> = {};
        for (let i = 0; i < size; i++) {
          if (at >= bytes.length || bytes[at] >> 5 !== 3) throw NOT_MINE; // keys are text here
          at++;
          const key = text(argument(bytes[at - 1] & 0x1f));
          if (key === "__proto__") throw NOT_MINE; // cbor-x renames it
          fields[key] = item(depth + 1);
        }
        return fields;
      }
      case 6:
        // Tag 64 (a Uint8Array) on a byte string: what the wire codec writes for bytes.
        if (head === 0xd8 && bytes[at] === 0x40 && at + 1 < bytes.length && bytes[at + 1] >> 5 === 2) {
          at += 2;
          return byteString(argument(bytes[at - 1] & 0x1f));
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
  };

  try {
    if (bytes.length === 0 || bytes[0] >> 5 !== 5) return null;
    const value = item(0) as Record<string, unknown>;
    return at === bytes.length ? value : null;
  } catch (err) {
    if (err === NOT_MINE) return null;
    throw err;
  }
}

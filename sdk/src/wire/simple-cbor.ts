// Messages of the wire read straight from their CBOR: the call routes'
// request bodies (a map's batch of inputs is a map holding an array of small
// maps, { idx, args }) and the runner's frames to its pool (an outputs frame
// is a map holding an array of { id, status, value }). A handful of CBOR
// types, which this reads without cbor-x's generic machinery (a fresh string
// for every key of every item, a second view for every tagged byte string).
// It gives what cbor-x gives for the same bytes (the wire codec's options:
// maps as objects, byte strings tagged 64 or not as views into the message);
// anything else it leaves to cbor-x (serialization.ts).

/** Nesting deeper than these messages' (map, list, item, value) is not one: cbor-x judges it. */
const MAX_DEPTH = 4;

/** Strings a kind of message repeats (its keys, and values such as a status): matched by their bytes instead of decoded each time. */
export type KnownKeys = ReadonlyArray<ReadonlyArray<{ key: string; bytes: Uint8Array }> | undefined>;

export function knownKeys(keys: readonly string[]): KnownKeys {
  const byLength: Array<Array<{ key: string; bytes: Uint8Array }> | undefined> = [];
  for (const key of keys) (byLength[key.length] ??= []).push({ key, bytes: Uint8Array.from(key, (ch) => ch.charCodeAt(0)) });
  return byLength;
}

/** Thrown inside the reader for bytes it does not take; never escapes decodeSimpleMap. */
const NOT_MINE = Symbol("not a message this reader takes");

/**
 * The object cbor-x decodes from `bytes`, when they are one map holding only
 * unsigned integers below 2^32, booleans, null, undefined, ASCII text, byte
 * strings (tagged 64 or not), arrays and maps with text keys, at most
 * MAX_DEPTH deep; null otherwise (the caller decodes with cbor-x).
 */
export function decodeSimpleMap(bytes: Uint8Array, keys: KnownKeys): Record<string, unknown> | null {
  if (bytes.length === 0 || bytes[0] >> 5 !== 5) return null;
  const reader = new Reader(bytes, keys);
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
  constructor(
    private readonly bytes: Uint8Array,
    private readonly keys: KnownKeys,
  ) {}

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
    const known = this.keys[length];
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

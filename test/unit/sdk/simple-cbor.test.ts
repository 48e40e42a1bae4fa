// The wire's simple-message CBOR reader (sdk/src/wire/simple-cbor.ts) against
// cbor-x: for any bytes it takes, it must give exactly what cbor-x decodes
// from them, whichever keys it was told to expect.
import { describe, expect, it } from "vitest";
import { encode, decode } from "../../../sdk/src/wire/serialization";
import { decodeSimpleMap, knownKeys } from "../../../sdk/src/wire/simple-cbor";
import { prng, type Rng } from "../../fixtures/prng";

const CALL_BODY_KEYS = knownKeys(["idx", "args", "inputs", "closed", "kind", "method", "params", "variant", "waitMs", "requestId"]);
const RUNNER_FRAME_KEYS = knownKeys(["t", "outputs", "id", "status", "value", "started"]);
const decodeCallBody = (bytes: Uint8Array) => decodeSimpleMap(bytes, CALL_BODY_KEYS);

/** Bytes as the Worker has them: a plain Uint8Array over the request's ArrayBuffer (Node's encoder answers with a Buffer). */
const plain = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

const ODD: unknown[] = [
  0,
  23,
  24,
  255,
  256,
  65_535,
  65_536,
  2 ** 32 - 1,
  2 ** 32,
  -1,
  0.5,
  NaN,
  2n ** 70n,
  "",
  "x",
  "ü",
  "run",
  true,
  false,
  null,
  undefined,
  [],
  {},
  new Date(0),
  new Map([[1, 2]]),
  new Uint8Array(0),
  new Float64Array(1),
];

function body(rng: Rng): Record<string, unknown> {
  const inputs = Array.from({ length: rng.pick([0, 1, 3, 24, 30]) }, (_, i) => ({
    idx: rng.pick([i, i + 1_000, i + 70_000, 2 ** 32 - 1]),
    args: encode([i, "x".repeat(rng.pick([0, 30, 300]) * (i % 7 === 0 ? 1 : 0))]),
  }));
  const b: Record<string, unknown> = { inputs, closed: rng.next() < 0.5 };
  if (rng.next() < 0.3)
    Object.assign(b, { kind: "map", method: "run", params: encode({ a: 1 }), variant: "maxInputs=4", waitMs: 25_000, requestId: "abcdefgh-1234" });
  if (rng.next() < 0.3) {
    const target = rng.next() < 0.5 || inputs.length === 0 ? b : (inputs[rng.int(inputs.length)] as Record<string, unknown>);
    // defineProperty: assigning `__proto__` would set the prototype, not a field
    Object.defineProperty(target, rng.pick(["idx", "args", "closed", "inputs", "odd", "__proto__", "ünï"]), {
      value: rng.pick(ODD),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return b;
}

/** Damage that cbor-x may or may not take: a flipped byte, cut short, a byte too many or too few. */
function damage(rng: Rng, bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  switch (rng.int(4)) {
    case 0:
      out[rng.int(out.length)] = rng.int(256);
      return out;
    case 1:
      return out.subarray(0, rng.int(out.length));
    case 2:
      return Uint8Array.of(...out, rng.int(256));
    default: {
      const at = rng.int(out.length);
      return Uint8Array.of(...out.subarray(0, at), ...out.subarray(at + 1));
    }
  }
}

function cborX(bytes: Uint8Array): { value: unknown } | { error: true } {
  try {
    return { value: decode(plain(bytes)) };
  } catch {
    return { error: true };
  }
}

describe("decodeSimpleMap", () => {
  it("reads the bodies the SDK sends", () => {
    const rng = prng(1);
    for (let i = 0; i < 200; i++) {
      const count = rng.pick([0, 1, 24, 500, 1_000]);
      const bytes = plain(encode({ inputs: Array.from({ length: count }, (_, idx) => ({ idx: 1_000 + idx, args: encode([idx]) })), closed: rng.next() < 0.5 }));
      expect(decodeCallBody(bytes)).toEqual(decode(bytes));
    }
  });

  it("reads the outputs frames a runner sends, and what cbor-x reads from them", () => {
    const rng = prng(2);
    const statuses = ["success", "failure", "timeout"];
    for (let i = 0; i < 200; i++) {
      const count = rng.pick([0, 1, 24, 100]);
      const frame = {
        t: "outputs",
        outputs: Array.from({ length: count }, (_, k) => ({
          id: rng.int(2 ** 31),
          status: rng.pick(statuses),
          value: encode(rng.pick([k, null, "x", { a: [k] }])),
        })),
        ...(rng.next() < 0.5 ? { started: [rng.int(1_000), rng.int(1_000)] } : {}),
      };
      const bytes = plain(encode(frame));
      const mine = decodeSimpleMap(bytes, RUNNER_FRAME_KEYS);
      expect(mine).not.toBeNull();
      expect(mine).toEqual(decode(bytes));
      expect(decodeSimpleMap(bytes, CALL_BODY_KEYS)).toEqual(mine); // known keys only save work
    }
  });

  it("gives exactly what cbor-x gives for every body it takes, odd and damaged ones included", () => {
    const rng = prng(0xb0d1);
    let taken = 0;
    for (let i = 0; i < 3_000; i++) {
      const bytes = plain(i % 2 ? damage(rng, encode(body(rng))) : encode(body(rng)));
      let mine: unknown;
      expect(() => (mine = decodeCallBody(bytes))).not.toThrow();
      if (mine === null) continue;
      taken++;
      expect(cborX(bytes)).toEqual({ value: mine });
    }
    expect(taken).toBeGreaterThan(1_000);
  });

  it("leaves to cbor-x what is not one map of the plain types, or has bytes after it", () => {
    for (const value of [
      [1],
      "text",
      5,
      null,
      { n: -1 },
      { n: 0.5 },
      { n: 2 ** 32 },
      { d: new Date(0) },
      { s: "ünï" },
      { deep: [[[[[1]]]]] },
      { f: new Float64Array(1) },
    ]) {
      expect(decodeCallBody(plain(encode(value)))).toBeNull();
    }
    expect(decodeCallBody(Uint8Array.of(...encode({ a: 1 }), 0x00))).toBeNull();
    expect(decodeCallBody(new Uint8Array(0))).toBeNull();
    expect(decodeCallBody(Uint8Array.of(0xa1, 0x61, 0x6e, 0x1b, 0, 0, 0, 0, 0, 0, 0, 5))).toBeNull(); // a 64-bit integer
    expect(decodeCallBody(Uint8Array.of(0xbf, 0x61, 0x61, 0x01, 0xff))).toBeNull(); // indefinite-length map
    // 20 000 nested arrays: not read (nor a stack overflow)
    expect(decodeCallBody(Uint8Array.of(0xa1, 0x61, 0x61, ...Array.from({ length: 20_000 }, () => 0x81), 0x00))).toBeNull();
  });
});

// The quick checks of the call routes' bodies (src/api/call-bodies.ts) against
// the zod schemas they stand in for: they may vouch only for what the schema
// accepts, and must then return what it returns; everything else is the schema's to word.
import { describe, expect, it } from "vitest";
import { encode, decode } from "../../../sdk/src/wire/serialization";
import { CreateCallRequest, PutInputsRequest } from "../../../src/api/wire";
import { checkCallInputs, checkInputOrder, checkInputSizes, quickCreateCall, quickPutInputs } from "../../../src/api/call-bodies";
import { prng, type Rng } from "../../fixtures/prng";

const args = encode([1]);
/** Values that are right for some field and wrong for most: edge numbers, odd strings, other types. */
const ODD: unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  -0,
  -1,
  0.5,
  23,
  24,
  60_000,
  60_001,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 64,
  -(2 ** 31),
  NaN,
  Infinity,
  -Infinity,
  2n ** 70n,
  "",
  "map",
  "remote",
  "spawn",
  "x".repeat(64),
  "x".repeat(65),
  "x".repeat(400),
  "x".repeat(401),
  "abcdefgh",
  "abc",
  "ünïcödé-id",
  "a".repeat(8) + " ",
  "😀".repeat(32),
  [],
  [1],
  {},
  { idx: 0, args },
  new Date(0),
  new Map([[1, 2]]),
  new Set([1]),
  new Float64Array(2),
  new Uint8Array(0),
  args,
];

function inputList(rng: Rng, start: number): unknown[] {
  const n = rng.pick([0, 1, 2, 5, 24, 500, 1_000, 1_001]);
  const inputs: unknown[] = Array.from({ length: n }, (_, i) => ({ idx: start + i, args }));
  if (n > 0 && rng.next() < 0.6) {
    const at = rng.int(n);
    const item = { ...(inputs[at] as Record<string, unknown>) };
    const field = rng.pick(["idx", "args", "extra", "whole"]);
    if (field === "whole") inputs[at] = rng.pick(ODD);
    else item[field] = rng.pick(ODD);
    if (field !== "whole") inputs[at] = rng.next() < 0.2 ? (({ idx, args }) => (rng.next() < 0.5 ? { idx } : { args }))(item) : item;
  }
  return inputs;
}

/** A body like the SDK's, then with some of its fields replaced by odd values or removed; as the Worker sees it after CBOR. */
function body(rng: Rng, valid: Record<string, unknown>): unknown {
  const v: Record<string, unknown> = { ...valid };
  const mutations = rng.pick([0, 0, 1, 1, 2]);
  for (let i = 0; i < mutations; i++) {
    const field = rng.pick([...Object.keys(valid), "method", "params", "variant", "waitMs", "requestId", "unknownField", "inputs"]);
    if (rng.next() < 0.15) delete v[field];
    else v[field] = rng.pick(ODD);
  }
  if (rng.next() < 0.03) return decode(encode(rng.pick(ODD)));
  return decode(encode(v));
}

const SCHEMAS = [
  {
    name: "putInputs",
    schema: PutInputsRequest,
    quick: quickPutInputs,
    valid: (rng: Rng) => ({ inputs: inputList(rng, 1_000), closed: rng.next() < 0.5, ...(rng.next() < 0.3 ? { method: "run" } : {}) }),
  },
  {
    name: "createCall",
    schema: CreateCallRequest,
    quick: quickCreateCall,
    valid: (rng: Rng) => ({
      kind: rng.pick(["map", "remote"]),
      inputs: inputList(rng, 0),
      closed: rng.next() < 0.5,
      ...(rng.next() < 0.3 ? { method: "run", params: encode([1, "x"]), variant: "maxContainers=2" } : {}),
      ...(rng.next() < 0.5 ? { waitMs: rng.pick([0, 25_000, 60_000]) } : {}),
      ...(rng.next() < 0.5 ? { requestId: "0f0e0d0c-0b0a-4908-8706-050403020100" } : {}),
    }),
  },
] as const;

describe("quick body checks", () => {
  for (const { name, schema, quick, valid } of SCHEMAS) {
    it(`${name}: vouch only for bodies the schema accepts, returning what it returns`, () => {
      const rng = prng(0x5eed + name.length);
      let vouched = 0;
      let accepted = 0;
      for (let i = 0; i < 1_500; i++) {
        const value = body(rng, valid(rng));
        const quickly = quick(value);
        const parsed = schema.safeParse(value);
        if (parsed.success) accepted++;
        if (quickly === null) continue;
        vouched++;
        expect(parsed.success, JSON.stringify(value, (_, x: unknown) => (typeof x === "bigint" ? `${x}n` : x)).slice(0, 300)).toBe(true);
        expect(quickly).toEqual(parsed.data);
      }
      // Most bodies the schema accepts are vouched for: those are the fast path.
      expect(vouched).toBeGreaterThan(accepted * 0.9);
    });

    it(`${name}: vouches for every body the SDK sends, rebuilt without unknown fields`, () => {
      const rng = prng(7);
      for (let i = 0; i < 50; i++) {
        const sent = valid(rng);
        const value = decode(encode({ ...sent, inputs: (sent.inputs as unknown[]).slice(0, 1_000).map((_, i) => ({ idx: i, args, note: "x" })) }));
        const quickly = quick(value);
        expect(quickly).not.toBeNull();
        expect(quickly).toEqual(schema.parse(value));
        for (const input of quickly!.inputs) expect(Object.keys(input).sort()).toEqual(["args", "idx"]);
      }
    });
  }
});

describe("checkCallInputs", () => {
  /** What the routes checked before: sizes and repeats, then order. */
  function verdictOf(check: () => void): string {
    try {
      check();
      return "ok";
    } catch (err) {
      return `${(err as { code: string }).code}: ${(err as Error).message}`;
    }
  }

  it("finds what checkInputSizes then checkInputOrder find, in the same order", () => {
    const rng = prng(0xc0de);
    const big = new Uint8Array(2_000_001);
    for (let i = 0; i < 2_000; i++) {
      const n = rng.int(12);
      const start = rng.int(3);
      const inputs = Array.from({ length: n }, (_, k) => ({ idx: start + k, args }));
      for (let m = rng.int(4); m > 0 && n > 0; m--) {
        const at = rng.int(n);
        const kind = rng.int(3);
        if (kind === 0) inputs[at] = { ...inputs[at], idx: rng.int(n + 3) };
        else if (kind === 1) inputs[at] = { ...inputs[at], args: big };
        else [inputs[at], inputs[0]] = [inputs[0], inputs[at]];
      }
      const before = verdictOf(() => {
        checkInputSizes(inputs);
        checkInputOrder(inputs);
      });
      expect(verdictOf(() => checkCallInputs(inputs))).toBe(before);
    }
  });
});

// The quick query check of the hot routes (src/api/schemas.ts) against the
// schema it stands in for: it vouches only for what queryInt accepts, with its value.
import { describe, expect, it } from "vitest";
import { queryInt, quickQueryInt } from "../../../src/api/schemas";

const VALUES = [
  "0",
  "1",
  "007",
  "59999",
  "60000",
  "60001",
  "-1",
  "-0",
  "+1",
  "1.0",
  "1e3",
  "0x10",
  " 7",
  "7 ",
  "",
  "abc",
  "１２",
  "9007199254740991",
  "9007199254740992",
  "1".repeat(16),
  "1".repeat(17),
  "NaN",
  "Infinity",
];

describe("quickQueryInt", () => {
  for (const [min, max] of [
    [0, 60_000],
    [0, Number.MAX_SAFE_INTEGER],
    [1, 1_000],
  ]) {
    it(`vouches only for what queryInt(${min}, ${max}) takes, with its value`, () => {
      const schema = queryInt(min, max);
      for (const value of VALUES) {
        const quickly = quickQueryInt([value], min, max);
        const parsed = schema.safeParse(value);
        expect({ value, quickly: quickly ?? "not vouched" }).toEqual({ value, quickly: parsed.success ? parsed.data : "not vouched" });
      }
    });
  }

  it("leaves a name given twice to the schema, and takes an absent one as absent", () => {
    expect(quickQueryInt(["1", "2"], 0, 10)).toBeNull();
    expect(quickQueryInt(undefined, 0, 10)).toBeUndefined();
  });
});

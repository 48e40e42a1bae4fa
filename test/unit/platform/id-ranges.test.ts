// Input ids as SQL conditions: whatever the ids, the conditions match exactly them.
import { describe, it, expect } from "vitest";
import { idConditions, MAX_IDS_PER_STATEMENT, MIN_RANGE_LENGTH, type IdCondition } from "../../../src/pool/id-ranges";
import { prng } from "../../fixtures/prng";

/** The ids among 0..limit that the conditions match, evaluated as SQLite would. */
function matched(conditions: IdCondition[], limit: number): number[] {
  const out: number[] = [];
  for (let id = 0; id <= limit; id++) {
    for (const c of conditions) {
      const hit = c.sql.startsWith("id BETWEEN") ? c.params[0] <= id && id <= c.params[1] : c.params.includes(id);
      if (hit) {
        out.push(id);
        break;
      }
    }
  }
  return out;
}

describe("idConditions", () => {
  it("makes a frame of consecutive ids one range", () => {
    const ids = Array.from({ length: 100 }, (_, k) => 500 + k).reverse();
    expect(idConditions(ids)).toEqual([{ sql: "id BETWEEN ? AND ?", params: [500, 599] }]);
  });

  it("keeps short runs and strays in IN lists of at most MAX_IDS_PER_STATEMENT", () => {
    const run = Array.from({ length: MIN_RANGE_LENGTH }, (_, k) => 1_000 + k);
    const strays = Array.from({ length: MAX_IDS_PER_STATEMENT + 5 }, (_, k) => 3 * k);
    const conditions = idConditions([...strays, ...run, 7, 7]);
    expect(conditions[0]).toEqual({ sql: "id BETWEEN ? AND ?", params: [1_000, 1_000 + MIN_RANGE_LENGTH - 1] });
    expect(conditions.slice(1).map((c) => c.params.length)).toEqual([MAX_IDS_PER_STATEMENT, 6]);
    for (const c of conditions.slice(1)) expect(c.sql).toBe(`id IN (${c.params.map(() => "?").join(",")})`);
  });

  it("matches exactly the ids given, whatever their shape", () => {
    const random = prng(14);
    for (let trial = 0; trial < 200; trial++) {
      const ids = new Set<number>();
      const n = random.int(300);
      for (let k = 0; k < n; k++) {
        const start = random.int(2_000);
        const length = random.chance(0.3) ? random.int(40) : 1;
        for (let i = 0; i < length; i++) ids.add(start + i);
      }
      const conditions = idConditions([...ids]);
      for (const c of conditions) expect(c.params.length).toBeLessThanOrEqual(MAX_IDS_PER_STATEMENT);
      expect(matched(conditions, 2_100)).toEqual([...ids].sort((a, b) => a - b));
    }
  });

  it("makes no condition of no ids", () => {
    expect(idConditions([])).toEqual([]);
  });
});

import { describe, expect, it } from "vitest";
import { emptyRhythm, type PoolRhythm } from "../../../src/pool/idle-histogram";
import { StoredRhythm } from "../../../src/pool/stored-rhythm";

describe("the pool's stored rhythm", () => {
  it("stores the first flip at once, later flips at most once a second, and a flip left over at the next look after that", () => {
    const stored: PoolRhythm[] = [];
    const rhythm = new StoredRhythm(emptyRhythm(), (r) => stored.push(r));
    rhythm.observeLoad(true, 1_000);
    expect(stored).toHaveLength(1);
    // A remote call at a time: idle, busy, idle… every few ms.
    for (let t = 1_002; t < 1_900; t += 2) rhythm.observeLoad((t / 2) % 2 === 0, t);
    expect(stored).toHaveLength(1);
    expect(rhythm.value.busy).toBe(false); // memory follows every flip
    rhythm.observeLoad(false, 2_100); // no flip, but one is waiting to be stored
    expect(stored).toHaveLength(2);
    expect(stored[1]).toEqual(rhythm.value);
    rhythm.observeLoad(false, 5_000); // nothing changed: nothing to store
    expect(stored).toHaveLength(2);
  });

  it("stores a container's startup time at once", () => {
    const stored: PoolRhythm[] = [];
    const rhythm = new StoredRhythm(emptyRhythm(), (r) => stored.push(r));
    rhythm.observeLoad(true, 0);
    rhythm.observeStartup(1_400, 10);
    expect(stored.map((r) => r.startupMs)).toEqual([null, 1_400]);
  });
});

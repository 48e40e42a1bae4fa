// The pure batcher, driven by a hand-moved clock: batches by size, by wait,
// by concurrency, and what a wrong-length result or a throw does to a batch.
import { describe, it, expect } from "vitest";
import { Batcher, BatchLengthError, type BatchClock } from "../../../sdk/src/runner/batcher.js";

class ManualClock implements BatchClock {
  private t = 0;
  private timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  now(): number {
    return this.t;
  }
  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + ms, fn, live: true };
    this.timers.push(timer);
    return () => void (timer.live = false);
  }
  /** Moves time on, firing the timers that come due. */
  advance(ms: number): void {
    this.t += ms;
    for (const timer of this.timers.filter((x) => x.live && x.at <= this.t)) {
      timer.live = false;
      timer.fn();
    }
  }
}

/** Lets promise callbacks (batch completions) run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup(options: { maxBatchSize: number; waitMs: number; maxConcurrentBatches?: number; run?: (items: number[]) => Promise<unknown> }) {
  const clock = new ManualClock();
  const batches: number[][] = [];
  const run =
    options.run ??
    (async (items: number[]) => {
      batches.push(items);
      return items.map((x) => ({ x, size: items.length }));
    });
  const batcher = new Batcher<number>({
    label: "embed",
    maxBatchSize: options.maxBatchSize,
    waitMs: options.waitMs,
    maxConcurrentBatches: options.maxConcurrentBatches ?? 1,
    run,
    clock,
  });
  return { clock, batches, batcher };
}

describe("Batcher", () => {
  it("runs a batch as soon as maxBatchSize inputs wait, and gives each input its own element", async () => {
    const { batcher, batches } = setup({ maxBatchSize: 3, waitMs: 60_000 });
    const results = Promise.all([1, 2, 3].map((x) => batcher.add(x)));
    await settle();
    expect(batches).toEqual([[1, 2, 3]]);
    expect(await results).toEqual([1, 2, 3].map((x) => ({ x, size: 3 })));
  });

  it("runs a partial batch once its oldest input has waited waitMs, not before", async () => {
    const { batcher, batches, clock } = setup({ maxBatchSize: 8, waitMs: 100 });
    const a = batcher.add(1);
    clock.advance(60);
    const b = batcher.add(2);
    clock.advance(39);
    await settle();
    expect(batches).toEqual([]);
    clock.advance(1);
    expect(await Promise.all([a, b])).toEqual([
      { x: 1, size: 2 },
      { x: 2, size: 2 },
    ]);
    expect(batches).toEqual([[1, 2]]);
  });

  it("never puts more than maxBatchSize inputs in a batch, and starts the rest's wait from its own oldest input", async () => {
    const { batcher, batches, clock } = setup({ maxBatchSize: 4, waitMs: 100 });
    const all = Promise.all(Array.from({ length: 10 }, (_, i) => batcher.add(i)));
    await settle();
    expect(batches).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    clock.advance(100);
    const results = await all;
    expect(batches[2]).toEqual([8, 9]);
    expect(results.map((r) => (r as { x: number }).x)).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });

  it("runs at most maxConcurrentBatches batches at once; a full batch waits for a slot", async () => {
    let open = 0;
    let most = 0;
    const gates: Array<() => void> = [];
    const { batcher } = setup({
      maxBatchSize: 2,
      waitMs: 0,
      maxConcurrentBatches: 2,
      run: async (items) => {
        open++;
        most = Math.max(most, open);
        await new Promise<void>((r) => gates.push(r));
        open--;
        return items;
      },
    });
    const all = Promise.all(Array.from({ length: 8 }, (_, i) => batcher.add(i)));
    await settle();
    expect(open).toBe(2);
    expect(batcher.waitingCount).toBe(4);
    while (gates.length > 0) {
      gates.shift()!();
      await settle();
    }
    expect(await all).toEqual(Array.from({ length: 8 }, (_, i) => i));
    expect(most).toBe(2);
  });

  it("with waitMs 0, inputs added together share a batch, started on the next timer turn", async () => {
    const { batcher, batches, clock } = setup({ maxBatchSize: 8, waitMs: 0 });
    const all = Promise.all([1, 2, 3].map((x) => batcher.add(x)));
    expect(batches).toEqual([]);
    clock.advance(0);
    await all;
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it("fails every input of a batch whose result is an array of the wrong length, naming the function and both lengths", async () => {
    const { batcher } = setup({ maxBatchSize: 3, waitMs: 100, run: async (items) => items.slice(1) });
    const results = await Promise.allSettled([1, 2, 3].map((x) => batcher.add(x)));
    for (const r of results) {
      expect(r.status).toBe("rejected");
      const err = (r as PromiseRejectedResult).reason as Error;
      expect(err).toBeInstanceOf(BatchLengthError);
      expect(err.message).toContain("embed is batched");
      expect(err.message).toContain("a batch of 3 inputs");
      expect(err.message).toContain("an array of length 2");
    }
  });

  it("fails every input of a batch whose result is not an array", async () => {
    const { batcher } = setup({ maxBatchSize: 2, waitMs: 100, run: async () => "oops" });
    const results = await Promise.allSettled([1, 2].map((x) => batcher.add(x)));
    expect(results.map((r) => ((r as PromiseRejectedResult).reason as Error).message)).toEqual([
      expect.stringContaining("returned a string, not an array"),
      expect.stringContaining("returned a string, not an array"),
    ]);
  });

  it("fails every input of a batch with the error the function threw, and runs the next batch", async () => {
    let calls = 0;
    const boom = new Error("GPU on fire");
    const { batcher } = setup({
      maxBatchSize: 2,
      waitMs: 100,
      run: async (items) => {
        if (calls++ === 0) throw boom;
        return items;
      },
    });
    const first = await Promise.allSettled([1, 2].map((x) => batcher.add(x)));
    expect(first.map((r) => (r as PromiseRejectedResult).reason)).toEqual([boom, boom]);
    expect(await Promise.all([3, 4].map((x) => batcher.add(x)))).toEqual([3, 4]);
  });
});

import { describe, expect, it } from "vitest";
import { OutputWaiters, type WaitTimers } from "../../../src/pool/waiters";

/** Timers on a clock the test moves: `advance` fires what falls due, in deadline order. */
function manualTimers() {
  let nowMs = 1_000;
  let nextHandle = 0;
  const armed = new Map<number, { atMs: number; fn: () => void }>();
  const timers: WaitTimers = {
    now: () => nowMs,
    setTimeout: (fn, ms) => {
      armed.set(++nextHandle, { atMs: nowMs + ms, fn });
      return nextHandle;
    },
    clearTimeout: (handle) => void armed.delete(handle as number),
  };
  const advance = async (ms: number): Promise<void> => {
    const until = nowMs + ms;
    for (;;) {
      const due = [...armed].filter(([, t]) => t.atMs <= until).sort((a, b) => a[1].atMs - b[1].atMs)[0];
      if (!due) break;
      armed.delete(due[0]);
      nowMs = due[1].atMs;
      due[1].fn();
    }
    nowMs = until;
    await Promise.resolve();
  };
  return { timers, advance, armedCount: () => armed.size };
}

/** A wait, with whether it has ended yet. */
function track(wait: Promise<void>): { ended: () => boolean } {
  let ended = false;
  void wait.then(() => (ended = true));
  return { ended: () => ended };
}

describe("readers waiting for outputs", () => {
  it("wakes the readers of a call when it is notified, and only them", async () => {
    const { timers } = manualTimers();
    const waiters = new OutputWaiters(timers);
    const a = track(waiters.waitFor("a", 25_000));
    const b = track(waiters.waitFor("b", 25_000));
    const either = track(waiters.waitForAny(["a", "c"], 25_000));
    waiters.notify("a");
    await Promise.resolve();
    expect([a.ended(), b.ended(), either.ended()]).toEqual([true, false, true]);
    expect(waiters.size).toBe(1);
    waiters.notify("c"); // the reader of a or c is gone already: nothing to wake twice
    waiters.notify("b");
    await Promise.resolve();
    expect(b.ended()).toBe(true);
    expect(waiters.size).toBe(0);
  });

  it("ends each wait at its own deadline with one timer armed, whatever order the waits came in", async () => {
    const { timers, advance, armedCount } = manualTimers();
    const waiters = new OutputWaiters(timers);
    const long = track(waiters.waitFor("a", 300));
    const short = track(waiters.waitFor("b", 100));
    const middle = track(waiters.waitFor("c", 200));
    expect(armedCount()).toBe(1);
    await advance(99);
    expect([short.ended(), middle.ended(), long.ended()]).toEqual([false, false, false]);
    await advance(1);
    expect([short.ended(), middle.ended(), long.ended()]).toEqual([true, false, false]);
    await advance(100);
    expect([middle.ended(), long.ended()]).toEqual([true, false]);
    await advance(100);
    expect(long.ended()).toBe(true);
    expect(armedCount()).toBe(0);
    expect(waiters.size).toBe(0);
  });

  it("lets the timer of a reader woken early fire on nothing, and arms no timer per later wait", async () => {
    const { timers, advance, armedCount } = manualTimers();
    const waiters = new OutputWaiters(timers);
    for (let i = 0; i < 100; i++) {
      const wait = track(waiters.waitFor(`call-${i}`, 25_000));
      waiters.notify(`call-${i}`);
      await Promise.resolve();
      expect(wait.ended()).toBe(true);
      await advance(1);
    }
    expect(armedCount()).toBe(1);
    const last = track(waiters.waitFor("last", 25_000));
    await advance(25_000 - 100); // the first wait's deadline passes: the timer fires and re-arms for the last one
    expect(last.ended()).toBe(false);
    expect(armedCount()).toBe(1);
    await advance(100);
    expect(last.ended()).toBe(true);
    expect(armedCount()).toBe(0);
  });

  it("ends a wait of no time at once, on the next timer", async () => {
    const { timers, advance } = manualTimers();
    const waiters = new OutputWaiters(timers);
    const wait = track(waiters.waitFor("a", 0));
    await advance(1);
    expect(wait.ended()).toBe(true);
  });
});

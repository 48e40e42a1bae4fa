// Issue 17: scaledownWindowMs "auto" on the real local platform. A caller
// every 15 s: once the pool has learned the rhythm, it releases its container
// between calls and has a fresh one ready before the next call arrives.
import { describe, it, expect, beforeAll } from "vitest";
import { type FunctionStats } from "../../sdk/src/index";
import { client, deploy, sleep } from "./helpers";

const APP_FILE = "test/e2e/apps/rhythm.ts";
const PERIOD_MS = 15_000;
/** The first call has no idle interval before it; the next six give the six the pool needs to learn. */
const LEARNING_CALLS = 7;
const CHECKED_CALLS = 3;

interface Observed {
  calledAtMs: number;
  container: string;
  loadedAtMs: number;
  /** Stats polled between the previous call's answer and this call. */
  gap: FunctionStats[];
}

describe("adaptive scale-down", () => {
  beforeAll(async () => {
    await deploy(APP_FILE);
  });

  it("learns a 15 s rhythm, then releases the container between calls and pre-warms one before each call", { timeout: 300_000 }, async () => {
    const periodic = await client().functions.fromName<[], { container: string; loadedAtMs: number }>("rhythm", "periodic");
    const before = await periodic.getCurrentStats();
    expect(before.autoscaler.scaledownWindowMs).toBe("auto");
    expect(before.adaptive?.representative).toBe(false);

    const calls: Observed[] = [];
    const firstMs = Date.now();
    let gap: FunctionStats[] = [];
    for (let i = 0; i < LEARNING_CALLS + CHECKED_CALLS; i++) {
      const dueMs = firstMs + i * PERIOD_MS;
      // Watch the pool until this call is due (leaving time for the last poll to answer).
      while (Date.now() < dueMs - 400) {
        gap.push(await periodic.getCurrentStats());
        await sleep(250);
      }
      await sleep(Math.max(0, dueMs - Date.now()));
      const calledAtMs = Date.now();
      const { container, loadedAtMs } = await periodic.remote();
      calls.push({ calledAtMs, container, loadedAtMs, gap });
      gap = [];
    }

    const learned = await periodic.getCurrentStats();
    expect(learned.adaptive?.representative, learned.adaptive?.reason).toBe(true);
    expect(learned.adaptive!.prewarmAfterMs).toBeGreaterThan(0);
    expect(learned.adaptive!.prewarmAfterMs).toBeLessThan(PERIOD_MS);

    // Learning: the fixed 60 s window keeps the first container for every call.
    expect(new Set(calls.slice(0, LEARNING_CALLS).map((c) => c.container)).size).toBe(1);
    // Learned: each call ran on a new container, loaded before the call was made (no cold start),
    // and in between the pool had no container at all, then one ready before the call.
    for (const [k, call] of calls.slice(LEARNING_CALLS).entries()) {
      const previous = calls[LEARNING_CALLS + k - 1]!;
      const where = `call ${LEARNING_CALLS + k + 1}`;
      expect(call.container, `${where} ran on the previous call's container`).not.toBe(previous.container);
      expect(call.loadedAtMs, `${where} waited for its container to start`).toBeLessThan(call.calledAtMs);
      expect(
        call.gap.some((s) => s.containers.total === 0),
        `${where}: the pool kept a container through the gap`,
      ).toBe(true);
      expect(call.gap.at(-1)?.containers.idle, `${where}: no container was ready just before the call`).toBe(1);
    }
  });
});

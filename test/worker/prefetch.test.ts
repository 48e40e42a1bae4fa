// Inputs sent ahead of a container's free slots (src/pool/prefetch.ts), at the
// pool level: the `queues` fake runner runs maxInputs at a time, keeps the
// rest queued and says when a queued one starts, as the real runner does.
import { describe, it, expect } from "vitest";
import { fakeCompute } from "./fake-compute";
import { errorOf, setUp, until, valuesOf } from "./map-harness";

/** Enough short inputs for the pool to learn that this function's inputs are short (PACE_MIN_SAMPLES and more). */
const warmUp = Array.from({ length: 20 }, (_, i) => [1_000 + i, 1]);

describe("a one-slot container fed ahead", () => {
  it("holds more inputs than its slots once the pool knows they are short, runs one at a time, and runs each once", async () => {
    const app = "prefetch-short";
    const pool = await setUp(app, {}, [], "queues");
    const inputs = Array.from({ length: 60 }, (_, i) => [i, 2]);
    const outputs = await pool.map(inputs);
    expect(valuesOf(outputs)).toEqual(inputs.map(([x]) => ["success", x * x]));
    const [container, ...others] = fakeCompute.containers(app);
    expect(others).toEqual([]);
    expect(container.peakRunning).toBe(1);
    expect(container.peakHeld).toBeGreaterThan(1);
    expect(container.answered).toEqual(inputs.map(([x]) => x));
  });

  it("sends nothing ahead while it does not know how long inputs take", async () => {
    const app = "prefetch-unknown";
    const pool = await setUp(app, {}, [], "queues");
    await pool.map([
      [1, 5],
      [2, 5],
      [3, 5],
    ]);
    expect(fakeCompute.containers(app)[0].peakHeld).toBe(1);
  });

  it("sends nothing ahead when inputs are long", async () => {
    const app = "prefetch-long";
    const pool = await setUp(app, {}, [], "queues");
    await pool.map(Array.from({ length: 12 }, (_, i) => [i, 60]));
    expect(fakeCompute.containers(app)[0].peakHeld).toBe(1);
  });

  it("a queued input's timeout runs from when it starts, not from when it was sent", async () => {
    const app = "prefetch-timeout";
    const pool = await setUp(app, { timeoutMs: 1_200 }, [], "queues");
    await pool.map(warmUp);
    // 101 waits 800 ms behind 100, then runs 800 ms: 1.6 s after it was sent, 0.8 s after it started.
    const callId = await pool.start([
      [100, 800],
      [101, 800],
    ]);
    await until("both inputs to reach the container", () => fakeCompute.containers(app)[0].received.includes(101));
    expect(fakeCompute.containers(app)[0].answered).not.toContain(100); // sent ahead, while 100 still ran
    expect(valuesOf(await pool.outputs(callId))).toEqual([
      ["success", 10_000],
      ["success", 10_201],
    ]);
  });
});

describe("inputs queued on a container that goes", () => {
  it("run again elsewhere without it counting as their loss: only the input that kills containers fails", async () => {
    const app = "prefetch-poison";
    const pool = await setUp(app, {}, [], "queues");
    await pool.map(warmUp);
    // 7 kills its container as it starts, three times; 8 and 9 wait behind it each time.
    const outputs = await pool.map([
      [7, -2],
      [8, 1],
      [9, 1],
    ]);
    expect(outputs[0].status).toBe("platform_error");
    expect(errorOf(outputs[0]).message).toMatch(/stopped unexpectedly 3 times/);
    expect(valuesOf(outputs.slice(1))).toEqual([
      ["success", 64],
      ["success", 81],
    ]);
    expect(fakeCompute.containers(app).filter((c) => c.received.includes(8)).length).toBeGreaterThan(1); // 8 waited behind 7 more than once
  });

  it("behind an input that hangs its runner and times out, they move to a new container", async () => {
    const app = "prefetch-hung";
    const pool = await setUp(app, { timeoutMs: 1_000 }, [], "queues");
    await pool.map(warmUp);
    const outputs = await pool.map([
      [7, -3],
      [8, 1],
      [9, 1],
    ]);
    expect(outputs[0].status).toBe("timeout");
    expect(valuesOf(outputs.slice(1))).toEqual([
      ["success", 64],
      ["success", 81],
    ]);
    const [hung, replacement] = fakeCompute.containers(app);
    expect(hung.received).toEqual(expect.arrayContaining([7, 8, 9]));
    expect(hung.answered).not.toContain(8);
    expect(replacement.answered).toEqual([8, 9]);
  }, 30_000);
});

// The pool's fleet at the pool level, inside workerd: containers are fake
// runners (fake-compute.ts) at the end of WebSocketPairs speaking the runner
// protocol, so container loss, resync after a pool restart, draining, retries
// and timeouts run here in seconds. (test/e2e/reliability.test.ts and
// restart.test.ts prove the same with real runner processes.)
import { describe, it, expect } from "vitest";
import { abortAllDurableObjects } from "cloudflare:test";
import { decode } from "../../sdk/src/wire/serialization";
import { fakeCompute } from "./fake-compute";
import { errorOf, setUp, sleep, until, valuesOf } from "./map-harness";

describe("a container lost mid-input", () => {
  it("its inputs run again on another container", async () => {
    const app = "fleet-loss";
    const pool = await setUp(app, { concurrent: { maxInputs: 3 } }, ["crash"], "ok");
    expect(valuesOf(await pool.map([[1], [2], [3]]))).toEqual([
      ["success", 1],
      ["success", 4],
      ["success", 9],
    ]);
    expect(fakeCompute.attempts(app)).toEqual(["crash", "ok"]);
    const [lost, replacement] = fakeCompute.containers(app);
    expect(lost).toMatchObject({ received: [1, 2, 3], answered: [], exit: "killed by SIGKILL" });
    expect(replacement.answered.sort()).toEqual([1, 2, 3]);
  });

  it("losses are counted: an input that keeps losing its container fails after the limit, naming why", async () => {
    const app = "fleet-losses";
    const pool = await setUp(app, {}, [], "crash");
    const [output] = await pool.map([[5]]);
    expect(output.status).toBe("platform_error");
    expect(errorOf(output).message).toMatch(/stopped unexpectedly 3 times \(last: its connection closed; the container killed by SIGKILL\)/);
    expect(fakeCompute.attempts(app)).toEqual(["crash", "crash", "crash"]);
  });
});

describe("a pool restarted while its container runs inputs", () => {
  it("takes the reconnected runner's word on what it holds: the inputs it never got run again, the rest finish once", async () => {
    const app = "fleet-resync";
    const pool = await setUp(app, { concurrent: { maxInputs: 4 } }, ["resyncs"]);
    const callId = await pool.start([[1], [2], [3], [4]]);
    await until("the runner to hold four inputs", () => fakeCompute.held(app) === 4);

    // The pool object goes (an eviction or a platform restart); the container stays.
    await abortAllDurableObjects();

    // The runner says it holds inputs 1 and 2 only: 3 and 4 go back to the queue and run on it again.
    expect(valuesOf(await pool.outputs(callId))).toEqual([
      ["success", 1],
      ["success", 4],
      ["success", 9],
      ["success", 16],
    ]);
    const [container, ...others] = fakeCompute.containers(app);
    expect(others).toEqual([]);
    expect(container.received).toEqual([1, 2, 3, 4, 3, 4]);
    expect(container.answered.sort()).toEqual([1, 2, 3, 4]);
  });
});

describe("an input timing out while others run on its container", () => {
  it("the others finish there; the container takes nothing new and is then replaced", async () => {
    const app = "fleet-drain";
    const pool = await setUp(app, { concurrent: { maxInputs: 2 }, timeoutMs: 2_000 });
    // Input 1 hangs; input 2 arrives a second later and takes 1.5 s, so it still runs when input 1 times out.
    const hung = await pool.start([[1, -1]]);
    await until("the runner to get the first input", () => fakeCompute.containers(app)[0]?.received.length === 1);
    await sleep(1_000);
    const slow = await pool.start([[2, 1_500]]);

    const [timedOut] = await pool.outputs(hung);
    expect(timedOut.status).toBe("timeout");
    expect(errorOf(timedOut).name).toBe("FunctionTimeoutError");
    expect(valuesOf(await pool.outputs(slow))).toEqual([["success", 4]]);
    const [drained] = fakeCompute.containers(app);
    expect(drained).toMatchObject({ received: [1, 2], answered: [2] });
    await until("the drained container to be stopped", () => fakeCompute.containers(app)[0].exit !== null);
    expect(fakeCompute.containers(app)[0].exit).toBe("killed by SIGTERM");

    // The next input runs on a new container.
    expect(valuesOf(await pool.map([[3]]))).toEqual([["success", 9]]);
    const containers = fakeCompute.containers(app);
    expect(containers).toHaveLength(2);
    expect(containers[1].answered).toEqual([3]);
  }, 30_000);
});

describe("timeouts", () => {
  it("an input running longer than timeoutMs ends as FunctionTimeoutError, and its container is stopped", async () => {
    const app = "fleet-timeout";
    const pool = await setUp(app, { timeoutMs: 1_000 });
    const [output] = await pool.map([[9, -1]]);
    expect(output.status).toBe("timeout");
    expect(errorOf(output)).toMatchObject({
      name: "FunctionTimeoutError",
      message: expect.stringMatching(/f timed out: an input ran longer than timeoutMs \(1000 ms\)/),
    });
    await until("the container to be stopped", () => fakeCompute.containers(app)[0].exit !== null);
    expect(fakeCompute.containers(app)[0].exit).toBe("killed by SIGTERM");
    expect(valuesOf(await pool.map([[3]]))).toEqual([["success", 9]]);
    expect(fakeCompute.containers(app)).toHaveLength(2);
  });
});

describe("retries", () => {
  it("a failing input with retries runs again after its backoff; one that keeps failing ends as its last failure", async () => {
    const app = "fleet-retries";
    const pool = await setUp(app, { concurrent: { maxInputs: 2 }, retries: { maxRetries: 2, initialDelayMs: 1_000, backoffCoefficient: 2 } });
    // [x, 0, failures]: 7 fails once, 8 more often than it may retry.
    const outputs = await pool.map([
      [7, 0, 1],
      [8, 0, 5],
    ]);
    expect(outputs[0].status).toBe("success");
    expect(decode(outputs[0].value)).toBe(49);
    expect(outputs[1].status).toBe("failure");
    expect(errorOf(outputs[1]).message).toBe("run 8 failed on purpose");

    expect(fakeCompute.runs(app, 7)).toHaveLength(2);
    const runs = fakeCompute.runs(app, 8);
    expect(runs).toHaveLength(3); // the first run and two retries
    // Each retry waited out its backoff: 1 s, then 2 s.
    expect(runs[1] - runs[0]).toBeGreaterThanOrEqual(1_000);
    expect(runs[2] - runs[1]).toBeGreaterThanOrEqual(2_000);
  }, 30_000);
});

// A remote call's output answered before it is stored (src/pool/early-outputs.ts),
// at the pool level with fake runners. The test entry keeps the pool from
// storing it in a later task (pool-entry.ts), so each test sends one event into
// the window between the answer and the write, and checks that the event
// found the input finished: as if the output had been stored at once.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { abortAllDurableObjects, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { decode } from "../../sdk/src/wire/serialization";
import { poolStubOfCall } from "../../src/control/pools";
import { fakeCompute } from "./fake-compute";
import { api } from "./helpers";
import { type Output, setUp, sleep, until, valuesOf } from "./map-harness";
import { poolHooks } from "./pool-entry";
import { STORE_DELAY_MS } from "../../src/pool/early-outputs";
import { unpackOutputs } from "../../src/pool/output-batch";

/**
 * What the pool's storage holds of a call: its inputs' states and its outputs'
 * statuses (a remote's running input and its small output are on its call's
 * row), and how many inputs it counts done.
 */
function stored(callId: string) {
  return runInDurableObject(poolStubOfCall(env, callId), (_, state) => {
    const sql = state.storage.sql;
    return {
      inputs: sql
        .exec<{ state: string }>(
          "SELECT state FROM inputs WHERE call_id = ?1 UNION ALL SELECT 'running' AS state FROM calls WHERE id = ?1 AND input_container IS NOT NULL",
          callId,
        )
        .toArray()
        .map((r) => r.state),
      outputs: [
        ...sql
          .exec<{ outputs: ArrayBuffer }>("SELECT outputs FROM output_batches WHERE call_id = ? ORDER BY seq", callId)
          .toArray()
          .flatMap((r) => unpackOutputs(new Uint8Array(r.outputs)).map((o) => o.status)),
        ...sql
          .exec<{ output_status: string }>("SELECT output_status FROM calls WHERE id = ? AND output_status IS NOT NULL", callId)
          .toArray()
          .map((r) => r.output_status),
      ],
      done: sql.exec<{ done: number }>("SELECT done FROM calls WHERE id = ?", callId).one().done,
    };
  });
}

const inWindow = { inputs: ["running"], outputs: [], done: 0 };
const storedOnce = { inputs: [], outputs: ["success"], done: 1 };

beforeEach(() => {
  poolHooks.storeEarlyOutputsLater = false;
});
afterEach(() => {
  poolHooks.storeEarlyOutputsLater = true;
});

/**
 * A first call starts the container, and a read stores its output; then the pool
 * is left alone for a moment, so that no timer set by then (a reconcile) ends the
 * next call's window before a test looks into it.
 */
async function warm(pool: { token: string; remote(args: number[]): Promise<{ callId: string }> }): Promise<void> {
  const { callId } = await pool.remote([1]);
  await readOutputs(pool.token, callId);
  await sleep(100);
}

async function readOutputs(token: string, callId: string): Promise<{ outputs: Output[]; done: boolean }> {
  const res = await api(token).get(`/v1/calls/${callId}/outputs?cursor=0&waitMs=0`);
  expect(res.status).toBe(200);
  return decode(new Uint8Array(await res.arrayBuffer()));
}

describe("a remote call's output", () => {
  it("is answered before it is stored; the runner is told the pool has it only once it is stored", async () => {
    const app = "early-answer";
    const pool = await setUp(app, {});
    await warm(pool);
    const { callId, output } = await pool.remote([7]);
    expect(valuesOf([output!])).toEqual([["success", 49]]);
    expect(await stored(callId)).toEqual(inWindow);
    expect(fakeCompute.containers(app)[0].acked).toHaveLength(1); // the warm-up call's

    // A second read of the call is an event: the output is stored first, and read from storage.
    const again = await readOutputs(pool.token, callId);
    expect(valuesOf(again.outputs)).toEqual([["success", 49]]);
    expect(again.done).toBe(true);
    expect(await stored(callId)).toEqual(storedOnce);
    await until("the output to be acknowledged", () => fakeCompute.containers(app)[0].acked.length === 2);
  });

  it("is stored in a later task on its own", async () => {
    const app = "early-later";
    const pool = await setUp(app, {});
    poolHooks.storeEarlyOutputsLater = true;
    const { callId, output } = await pool.remote([2]);
    expect(valuesOf([output!])).toEqual([["success", 4]]);
    await until("the output to be acknowledged", () => fakeCompute.containers(app)[0].acked.length === 1);
    expect(await stored(callId)).toEqual(storedOnce);
  });
});

describe("a remote call's output stored with the next call's writes", () => {
  it("the caller's next call stores it, then runs in the slot it freed", async () => {
    const app = "early-next-call";
    const pool = await setUp(app, {});
    await warm(pool);
    const first = await pool.remote([3]);
    expect(await stored(first.callId)).toEqual(inWindow);
    // One container with one slot, still taken by the first input as stored: the next call finds it free.
    const second = await pool.remote([4]);
    expect(valuesOf([second.output!])).toEqual([["success", 16]]);
    expect(await stored(first.callId)).toEqual(storedOnce);
  });

  it("waits STORE_DELAY_MS on its own, but not while inputs wait for the slot it holds", async () => {
    const app = "early-delays";
    poolHooks.storeEarlyOutputsLater = true;
    const pool = await setUp(app, {});
    await warm(pool);
    poolHooks.storeDelaysMs = [];
    await pool.remote([2]);
    expect(poolHooks.storeDelaysMs).toEqual([STORE_DELAY_MS]);

    // Two calls at once on one slot: the second waits for the first's output to be stored.
    poolHooks.storeDelaysMs = [];
    const [a, b] = await Promise.all([pool.remote([5, 50]), pool.remote([6, 50])]);
    expect(valuesOf([a.output!, b.output!])).toEqual([
      ["success", 25],
      ["success", 36],
    ]);
    expect(poolHooks.storeDelaysMs[0]).toBe(0);
  });
});

describe("an event in the window between a remote call's answer and its write", () => {
  it("a cancel finds the input finished: nothing cancelled, the output its caller got is the one kept", async () => {
    const app = "early-cancel";
    const pool = await setUp(app, {});
    await warm(pool);
    const { callId, output } = await pool.remote([3]);
    expect(valuesOf([output!])).toEqual([["success", 9]]);
    expect(await stored(callId)).toEqual(inWindow);

    const res = await api(pool.token).json("POST", `/v1/calls/${callId}/cancel`, {});
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ cancelledInputs: 0 });
    expect(await stored(callId)).toEqual(storedOnce);
    expect(valuesOf((await readOutputs(pool.token, callId)).outputs)).toEqual([["success", 9]]);
  });

  it("the alarm past the input's timeout finds it finished: no timeout, its container kept", async () => {
    const app = "early-timeout";
    const pool = await setUp(app, { timeoutMs: 1_000 });
    await warm(pool);
    const { callId, output } = await pool.remote([5]);
    expect(valuesOf([output!])).toEqual([["success", 25]]);
    expect(await stored(callId)).toEqual(inWindow);

    // Past the deadline the input was sent with: the alarm (set for it) sweeps overdue inputs.
    await sleep(1_300);
    await runDurableObjectAlarm(poolStubOfCall(env, callId));
    expect(await stored(callId)).toEqual(storedOnce);
    const [container, ...others] = fakeCompute.containers(app);
    expect(others).toEqual([]);
    expect(container.exit).toBeNull();
    expect(valuesOf([(await pool.remote([6])).output!])).toEqual([["success", 36]]);
  });

  it("its container lost finds the input finished: it is not run again", async () => {
    const app = "early-lost";
    const pool = await setUp(app, {}, ["answers_then_crashes"], "ok");
    await warm(pool);
    const { callId, output } = await pool.remote([4]);
    expect(valuesOf([output!])).toEqual([["success", 16]]);
    await until("the pool to give the container up", async () => (await stored(callId)).done === 1);
    expect(await stored(callId)).toEqual(storedOnce);
    // Given time to start a replacement and run the input there, if it had been put back.
    await sleep(500);
    expect(fakeCompute.attempts(app)).toEqual(["answers_then_crashes"]);
    expect(fakeCompute.runs(app, 4)).toHaveLength(1);
    // Counted once, as finished: nothing waits or runs.
    const stats = await api(pool.token).get(`/v1/functions/${pool.functionId}/stats`);
    expect(await stats.json()).toMatchObject({ backlog: 0, runningInputs: 0 });
  });

  it("the pool restarted loses nothing: the runner sends the output again, and the caller's retry gets it", async () => {
    const app = "early-restart";
    const pool = await setUp(app, {}, [], "keeps");
    await warm(pool);
    const requestId = "req-early-restart";
    const first = await pool.remote([6], requestId);
    expect(valuesOf([first.output!])).toEqual([["success", 36]]);
    expect(await stored(first.callId)).toEqual(inWindow);

    // The pool goes before it stored the output (an eviction or a crash); the runner still holds it.
    await abortAllDurableObjects();

    const retry = await pool.remote([6], requestId);
    expect(retry.callId).toBe(first.callId);
    expect(valuesOf([retry.output!])).toEqual([["success", 36]]);
    expect(valuesOf((await readOutputs(pool.token, first.callId)).outputs)).toEqual([["success", 36]]);
    expect(await stored(first.callId)).toEqual(storedOnce);
    expect(fakeCompute.runs(app, 6)).toHaveLength(1);
    await until("the output to be acknowledged", () => fakeCompute.containers(app)[0].acked.length === 2); // with the warm-up call's
  });
});

// Issue "Reliability and security", inside workerd: the spawn consumer
// failing on a batch and the batch being redelivered, and a pool object
// evicted between requests. (The end-to-end side, with real containers and a
// restarted platform, is test/e2e/reliability.test.ts and restart.test.ts.)
import { describe, it, expect } from "vitest";
import { abortAllDurableObjects, createExecutionContext, createMessageBatch, env, getQueueResult, runInDurableObject } from "cloudflare:test";
import { consumeSpawns } from "../../src/spawn/consumer";
import worker from "../../src/index";
import type { Env, SpawnMessage } from "../../src/env";
import type { PoolConfig } from "../../src/pool/config";
import type { FunctionPool } from "../../src/pool/function-pool";
import { HISTORY_ROWS, HISTORY_WRITE_INTERVAL_MS } from "../../src/pool/store-history";
import { poolStubOfCall } from "../../src/control/pools";
import { resolveOptions } from "../../sdk/src/wire/options";
import { decode, encode } from "../../sdk/src/wire/serialization";
import { BASE, api, deploy, manifest, newWorkspace } from "./helpers";

function config(): PoolConfig {
  return {
    version: 1,
    workspaceId: "ws-redelivery",
    appName: "redelivery",
    functionId: "fn-redelivery",
    functionName: "f",
    kind: "function",
    params: null,
    deploymentId: "dep-redelivery",
    options: resolveOptions("f", {}),
    overrides: {},
    overrideSources: {},
    publicUrl: BASE,
  };
}

/** Per call: its total, how many inputs it holds (rows, and inputs in its batches' rows), and how many outputs are stored for it. */
function rowsPerCall(stub: DurableObjectStub<FunctionPool>) {
  return runInDurableObject(stub, (_, state) =>
    state.storage.sql
      .exec<{ id: string; total: number; inputs: number; outputs: number }>(
        `SELECT c.id, c.total,
           (SELECT COUNT(*) FROM inputs i WHERE i.call_id = c.id) + (SELECT COALESCE(SUM(b.count), 0) FROM input_batches b WHERE b.call_id = c.id) AS inputs,
           (SELECT COALESCE(SUM(o.count), 0) FROM output_batches o WHERE o.call_id = c.id) AS outputs
         FROM calls c ORDER BY c.id`,
      )
      .toArray(),
  );
}

/** The same env with R2 deletes failing: the consumer delivers, then fails cleaning up, so the message is retried. */
function envWithFailingDeletes(): Env {
  const bundles = new Proxy(env.BUNDLES, {
    get(target, prop) {
      if (prop === "delete") return async () => Promise.reject(new Error("R2 is unavailable"));
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { ...env, BUNDLES: bundles };
}

describe("spawn delivery that fails once", () => {
  it("a batch the consumer fails on is redelivered whole, and no call gets a second input", async () => {
    const id = env.POOL.newUniqueId();
    const stub = env.POOL.get(id);
    const admitted = await stub.admitSpawns(config(), 6);
    if (!admitted.ok) throw new Error(admitted.error.message);
    const callIds = admitted.value.callIds;
    // Call 5's arguments travel by reference through R2, as large ones do.
    const argsKey = `spawn-args/${callIds[5]}`;
    await env.BUNDLES.put(argsKey, encode([5]));
    const messages: SpawnMessage[] = [
      { poolId: id.toString(), calls: callIds.slice(0, 3).map((callId, i) => ({ callId, args: encode([i]) })) },
      { poolId: id.toString(), calls: [...callIds.slice(3, 5).map((callId, i) => ({ callId, args: encode([3 + i]) })), { callId: callIds[5], argsKey }] },
    ];
    const batchOf = (attempts: number) =>
      createMessageBatch<SpawnMessage>(
        "squall-spawn",
        messages.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts, body })),
      );

    // First attempt: both messages reach the pool, then cleaning up message 1's R2 reference fails.
    const first = batchOf(1);
    const ctx = createExecutionContext();
    await consumeSpawns(first, envWithFailingDeletes());
    const firstResult = await getQueueResult(first, ctx);
    expect(firstResult.explicitAcks).toEqual(["m0"]);
    expect(firstResult.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(["m1"]);
    expect(await env.BUNDLES.head(argsKey)).not.toBeNull();

    // The queue redelivers (the whole batch, as after a consumer crash), twice for good measure.
    for (const attempts of [2, 3]) {
      const again = batchOf(attempts);
      await consumeSpawns(again, env);
      const result = await getQueueResult(again, createExecutionContext());
      expect(result.explicitAcks.sort()).toEqual(["m0", "m1"]);
      expect(result.retryMessages).toEqual([]);
    }
    expect(await env.BUNDLES.head(argsKey)).toBeNull(); // cleaned up once delivery stuck
    // Handed to the pool directly once more, as a consumer that crashed after delivering would: nothing new.
    const again = await stub.deliverSpawns(callIds.slice(0, 5).map((callId, i) => ({ callId, args: encode([i]), method: null })));
    expect(again.delivered).toBe(0);

    // Each call has one input (or, once it ran or failed, one output): never two.
    const rows = await rowsPerCall(stub);
    expect(rows.map((r) => r.id)).toEqual([...callIds].sort());
    for (const r of rows) {
      expect(r.total).toBe(1);
      expect(r.inputs + r.outputs).toBe(1);
    }
  });
});

describe("spawn delivery in bulk", () => {
  it("a delivery of many calls, some twice in it, gives each call one input; delivered again, none", async () => {
    const stub = env.POOL.get(env.POOL.newUniqueId());
    const admitted = await stub.admitSpawns(config(), 200);
    if (!admitted.ok) throw new Error(admitted.error.message);
    const callIds = admitted.value.callIds;
    // More calls than one statement takes, in an order that repeats some.
    const delivery = [...callIds, ...callIds.slice(0, 50)].map((callId) => ({ callId, args: encode([callIds.indexOf(callId)]), method: null }));
    expect((await stub.deliverSpawns(delivery)).delivered).toBe(200);
    expect((await stub.deliverSpawns(delivery)).delivered).toBe(0);
    const rows = await rowsPerCall(stub);
    expect(rows.map((r) => r.id)).toEqual([...callIds].sort());
    for (const r of rows) {
      expect(r.total).toBe(1);
      expect(r.inputs + r.outputs).toBe(1);
    }
  });
});

describe("pool eviction", () => {
  it("an evicted pool comes back from storage: the map call, its inputs and its outputs survive, each output once", async () => {
    const token = await newWorkspace("evict");
    const d = (await (await deploy(token, manifest("evict", [{ name: "f", options: { maxContainers: 1 } }]))).json()) as {
      functions: Array<{ functionId: string }>;
    };
    const functionId = d.functions[0].functionId;
    const inputs = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ idx: from + i, args: encode([from + i]) }));
    const created = await api(token).cbor(`/v1/functions/${functionId}/calls`, { kind: "map", inputs: inputs(0, 3), closed: false });
    expect(created.status).toBe(200);
    const { callId } = decode<{ callId: string }>(new Uint8Array(await created.arrayBuffer()));

    // Every Durable Object is thrown out of memory, as an eviction or a restart does.
    await abortAllDurableObjects();

    // The call is still there: it takes more inputs and closes, then delivers every output.
    expect((await api(token).cbor(`/v1/calls/${callId}/inputs`, { inputs: inputs(3, 2), closed: false })).status).toBe(200);
    await abortAllDurableObjects();
    expect((await api(token).cbor(`/v1/calls/${callId}/inputs`, { inputs: [], closed: true })).status).toBe(200);
    const seen: number[] = [];
    let cursor = 0;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await api(token).get(`/v1/calls/${callId}/outputs?cursor=${cursor}&waitMs=2000`);
      expect(res.status).toBe(200);
      const body = decode<{ outputs: Array<{ idx: number; status: string }>; cursor: number; done: boolean }>(new Uint8Array(await res.arrayBuffer()));
      seen.push(...body.outputs.map((o) => o.idx));
      cursor = body.cursor;
      if (body.done) break;
      if (Date.now() > deadline) throw new Error(`the map did not finish; outputs so far: ${seen.join(",")}`);
      await abortAllDurableObjects(); // and again between reads: the cursor picks up where it was
    }
    // No container starts in this suite (pool-entry.ts), so each input ends as a platform error; what matters is one output each.
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
    const rows = await rowsPerCall(poolStubOfCall(env, callId));
    expect(rows).toMatchObject([{ id: callId, total: 5, inputs: 0 }]);
  }, 90_000);
});

describe("resending a map's batches after a lost answer", () => {
  // An input's row goes when it finishes, so the pool knows a resent batch by its idx: below the call's total.
  it("a batch resent after its inputs finished is not run again", async () => {
    const token = await newWorkspace("resend-done");
    const d = (await (await deploy(token, manifest("resend-done", [{ name: "f" }]))).json()) as { functions: Array<{ functionId: string }> };
    const created = await api(token).cbor(`/v1/functions/${d.functions[0].functionId}/calls`, { kind: "map", inputs: [], closed: false });
    const { callId } = decode<{ callId: string }>(new Uint8Array(await created.arrayBuffer()));
    const batch = { inputs: [{ idx: 0, args: encode([0]) }], closed: false };
    expect((await api(token).cbor(`/v1/calls/${callId}/inputs`, batch)).status).toBe(200);
    // The input finishes (here: fails at once, as no container starts in this suite)...
    const stub = () => poolStubOfCall(env, callId);
    const deadline = Date.now() + 20_000;
    while ((await rowsPerCall(stub()))[0].outputs === 0) {
      if (Date.now() > deadline) throw new Error("the input never finished");
      await new Promise((r) => setTimeout(r, 50));
    }
    // ...and the SDK, whose answer was lost, sends the same batch again.
    expect((await api(token).cbor(`/v1/calls/${callId}/inputs`, batch)).status).toBe(200);
    expect(await rowsPerCall(stub())).toMatchObject([{ total: 1, inputs: 0, outputs: 1 }]);
  });

  it("a resent closing batch is admitted once, like any resent batch", async () => {
    const token = await newWorkspace("resend-close");
    const d = (await (await deploy(token, manifest("resend", [{ name: "f" }]))).json()) as { functions: Array<{ functionId: string }> };
    const created = await api(token).cbor(`/v1/functions/${d.functions[0].functionId}/calls`, {
      kind: "map",
      inputs: [{ idx: 0, args: encode([0]) }],
      closed: false,
    });
    const { callId } = decode<{ callId: string }>(new Uint8Array(await created.arrayBuffer()));
    const last = { inputs: [{ idx: 1, args: encode([1]) }], closed: true };
    expect((await api(token).cbor(`/v1/calls/${callId}/inputs`, last)).status).toBe(200);
    // The answer was lost; the SDK sends the same batch again.
    expect((await api(token).cbor(`/v1/calls/${callId}/inputs`, last)).status).toBe(200);
    // New inputs after the close are still refused.
    const late = await api(token).cbor(`/v1/calls/${callId}/inputs`, { inputs: [{ idx: 2, args: encode([2]) }], closed: true });
    expect(late.status).toBe(409);
  });

  it("refuses inputs that skip an idx or do not count up by one, naming the idx expected", async () => {
    const token = await newWorkspace("resend-gap");
    const d = (await (await deploy(token, manifest("gap", [{ name: "f" }]))).json()) as { functions: Array<{ functionId: string }> };
    const path = `/v1/functions/${d.functions[0].functionId}/calls`;
    const notFromZero = await api(token).cbor(path, { kind: "map", inputs: [{ idx: 1, args: encode([1]) }], closed: false });
    expect(notFromZero.status).toBe(400);
    expect(await notFromZero.json()).toMatchObject({ error: { code: "INVALID_ARGUMENT", message: expect.stringContaining("first input is idx 0") } });
    const created = await api(token).cbor(path, { kind: "map", inputs: [{ idx: 0, args: encode([0]) }], closed: false });
    const { callId } = decode<{ callId: string }>(new Uint8Array(await created.arrayBuffer()));
    const gap = await api(token).cbor(`/v1/calls/${callId}/inputs`, { inputs: [{ idx: 2, args: encode([2]) }], closed: false });
    expect(gap.status).toBe(400);
    expect(await gap.json()).toMatchObject({ error: { code: "INVALID_ARGUMENT", message: expect.stringContaining("expects idx 1 next, not 2") } });
    const shuffled = await api(token).cbor(`/v1/calls/${callId}/inputs`, {
      inputs: [
        { idx: 2, args: encode([2]) },
        { idx: 1, args: encode([1]) },
      ],
      closed: false,
    });
    expect(shuffled.status).toBe(400);
    expect(await shuffled.json()).toMatchObject({ error: { message: expect.stringContaining("count up by one") } });
    // Nothing was admitted by the refused requests.
    const stub = poolStubOfCall(env, callId);
    expect(await rowsPerCall(stub)).toMatchObject([{ total: 1 }]);
  });
});

describe("pool storage stays bounded", () => {
  it("the history of finished inputs is written by the alarm when no more come, and trimmed as it is written", async () => {
    const token = await newWorkspace("history");
    const d = (await (await deploy(token, manifest("history", [{ name: "f" }]))).json()) as { functions: Array<{ functionId: string }> };
    const n = 1_000;
    const created = await api(token).cbor(`/v1/functions/${d.functions[0].functionId}/calls`, {
      kind: "map",
      inputs: Array.from({ length: n }, (_, idx) => ({ idx, args: encode([idx]) })),
      closed: true,
    });
    expect(created.status).toBe(200);
    const { callId } = decode<{ callId: string }>(new Uint8Array(await created.arrayBuffer()));
    const stub = poolStubOfCall(env, callId);
    // No container starts in this suite: every input ends as a platform error, each a line of history.
    const deadline = Date.now() + 30_000;
    while ((await rowsPerCall(stub))[0].outputs < n) {
      if (Date.now() > deadline) throw new Error("the inputs never finished");
      await new Promise((r) => setTimeout(r, 50));
    }
    // Lines are held in memory up to HISTORY_WRITE_INTERVAL_MS; with no more inputs finishing, the pool's alarm writes them.
    const written = () =>
      runInDurableObject(stub, (_, state) => state.storage.sql.exec<{ n: number }>("SELECT COALESCE(SUM(lines), 0) AS n FROM history_batches").one().n);
    let lines = await written();
    while (lines === 0) {
      if (Date.now() > deadline + HISTORY_WRITE_INTERVAL_MS) throw new Error("the alarm never wrote the lines held in memory");
      await new Promise((r) => setTimeout(r, 50));
      lines = await written();
    }
    expect(lines).toBeLessThanOrEqual(2 * HISTORY_ROWS);
  }, 60_000);
});

describe("a call's request sent again", () => {
  it("with the same requestId gets the call the first one started; a malformed requestId is refused", async () => {
    const token = await newWorkspace("request-id");
    const d = (await (await deploy(token, manifest("request-id", [{ name: "f" }]))).json()) as { functions: Array<{ functionId: string }> };
    const path = `/v1/functions/${d.functions[0].functionId}/calls`;
    const body = {
      kind: "map",
      inputs: [
        { idx: 0, args: encode([0]) },
        { idx: 1, args: encode([1]) },
      ],
      closed: false,
      requestId: "req-0123456789",
    };
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await api(token).cbor(path, body);
      expect(res.status).toBe(200);
      ids.push(decode<{ callId: string }>(new Uint8Array(await res.arrayBuffer())).callId);
    }
    expect(new Set(ids).size).toBe(1);
    const other = await api(token).cbor(path, { ...body, requestId: "req-other-request" });
    const otherId = decode<{ callId: string }>(new Uint8Array(await other.arrayBuffer())).callId;
    expect(otherId).not.toBe(ids[0]);
    const rows = await rowsPerCall(poolStubOfCall(env, ids[0]));
    // The sends again wrote nothing: one call per request id, each with its two inputs once.
    expect(rows.map((r) => r.id).sort()).toEqual([ids[0], otherId].sort());
    expect(rows.find((r) => r.id === ids[0])).toMatchObject({ total: 2 });
    expect(rows.reduce((sum, r) => sum + r.inputs + r.outputs, 0)).toBe(4);
    for (const requestId of ["short", "has space here", "x".repeat(65)]) {
      const res = await api(token).cbor(path, { ...body, requestId });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "INVALID_ARGUMENT", message: expect.stringContaining("requestId") } });
    }
  });
});

describe("reading many calls' results at once", () => {
  it("answers each finished call's output and names the calls that do not exist; waits for the first when none is ready", async () => {
    const token = await newWorkspace("results");
    // Two functions, so the read spans two pools (and each pool's start failures are its own).
    const d = (await (await deploy(token, manifest("results", [{ name: "f" }, { name: "g" }]))).json()) as { functions: Array<{ functionId: string }> };
    let next = 0;
    const start = async (): Promise<string> => {
      const res = await api(token).cbor(`/v1/functions/${d.functions[next++].functionId}/calls`, {
        kind: "remote",
        inputs: [{ idx: 0, args: encode([1]) }],
        closed: true,
        waitMs: 0,
      });
      return decode<{ callId: string }>(new Uint8Array(await res.arrayBuffer())).callId;
    };
    const read = async (callIds: string[], waitMs: number) => {
      const res = await api(token).cbor("/v1/calls/outputs", { callIds, waitMs });
      expect(res.status).toBe(200);
      return decode<{ results: Array<{ callId: string; output: { idx: number; status: string } }>; missing: string[] }>(
        new Uint8Array(await res.arrayBuffer()),
      );
    };
    const a = await start();
    const b = await start();
    const madeUp = a.replace(/[0-9a-f]{16}$/, "0000000000000000");
    // No container starts in this suite: each call ends as a platform error after the start failures.
    const first = await read([a, b, madeUp, "not-a-call"], 60_000);
    expect(first.results.length).toBeGreaterThan(0);
    expect(first.missing.sort()).toEqual([madeUp, "not-a-call"].sort());
    let all = first.results;
    const deadline = Date.now() + 20_000;
    while (all.length < 2) {
      if (Date.now() > deadline) throw new Error("the calls never finished");
      all = (await read([a, b, a], 1_000)).results;
    }
    expect(all.map((r) => r.callId).sort()).toEqual([a, b].sort());
    for (const r of all) expect(r.output).toMatchObject({ idx: 0, status: "platform_error" });
  }, 60_000);
});

describe("a pool's config", () => {
  it("never goes back to an older version, even one of another deployment (a request resolved before a deploy)", async () => {
    const stub = env.POOL.get(env.POOL.newUniqueId());
    // Each config declares another maxContainers, so the pool's stats tell which one it holds.
    const declaring = (version: number, deploymentId: string, maxContainers: number): PoolConfig => ({
      ...config(),
      version,
      deploymentId,
      options: resolveOptions("f", { maxContainers }),
    });
    const held = async () => {
      const stats = await stub.stats(config().workspaceId);
      if (!stats.ok) throw new Error(stats.error.message);
      return stats.value.autoscaler.maxContainers;
    };
    await stub.configure(declaring(2, "dep-new", 2));
    await stub.configure(declaring(1, "dep-old", 1));
    expect(await held()).toBe(2);
    await stub.configure(declaring(3, "dep-new", 3)); // an override bumps the version
    expect(await held()).toBe(3);
  });
});

describe("spawning when R2 refuses a large argument", () => {
  it("hands the calls to the pool directly instead of leaving them admitted and undelivered", async () => {
    const token = await newWorkspace("r2-down");
    const d = (await (await deploy(token, manifest("r2-down", [{ name: "f" }]))).json()) as { functions: Array<{ functionId: string }> };
    const bundles = new Proxy(env.BUNDLES, {
      get(target, prop) {
        if (prop === "put") return async () => Promise.reject(new Error("R2 is unavailable"));
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const large = new Uint8Array(40 * 1024).fill(7); // over the inline limit: it would travel through R2
    const res = await worker.fetch!(
      new Request(`${BASE}/v1/functions/${d.functions[0].functionId}/spawns`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/cbor" },
        body: encode({
          inputs: [
            { idx: 0, args: encode([large]) },
            { idx: 1, args: encode([1]) },
          ],
        }) as BodyInit,
      }) as Parameters<NonNullable<typeof worker.fetch>>[0],
      { ...env, BUNDLES: bundles },
      createExecutionContext(),
    );
    expect(res.status).toBe(200);
    const { callIds } = decode<{ callIds: string[] }>(new Uint8Array(await res.arrayBuffer()));
    const rows = await rowsPerCall(poolStubOfCall(env, callIds[0]));
    // Both calls reached the pool (as an input, or already as an output): none is left awaiting delivery.
    for (const id of callIds) expect(rows.find((r) => r.id === id)).toMatchObject({ total: 1 });
  });
});

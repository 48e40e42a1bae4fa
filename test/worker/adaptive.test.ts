// Issue 17, inside workerd: scaledownWindowMs "auto" through the API, and the
// pool's idle-interval histogram kept in its SQLite meta across an eviction.
// (The policy itself: test/unit/platform/keep-alive.test.ts; with real containers:
// test/e2e/adaptive.test.ts.)
import { describe, it, expect } from "vitest";
import { abortAllDurableObjects, env, runInDurableObject } from "cloudflare:test";
import type { PoolConfig } from "../../src/pool/config";
import { emptyRhythm, recordIdle, weight, type PoolRhythm } from "../../src/pool/idle-histogram";
import { resolveOptions } from "../../sdk/src/wire/options";
import { encode } from "../../sdk/src/wire/serialization";
import type { FunctionStats } from "../../sdk/src/wire/api";
import { BASE, api, deploy, errorOf, manifest, newWorkspace } from "./helpers";
import { fakeCompute } from "./fake-compute";

function config(): PoolConfig {
  return {
    version: 1,
    workspaceId: "ws-adaptive",
    appName: "adaptive",
    functionId: "fn-adaptive",
    functionName: "f",
    kind: "function",
    params: null,
    deploymentId: "dep-adaptive",
    options: resolveOptions("f", { scaledownWindowMs: "auto" }),
    overrides: {},
    overrideSources: {},
    publicUrl: BASE,
  };
}

describe('scaledownWindowMs "auto" through the API', () => {
  it("deploys, reports what the pool has learned, and switches with updateAutoscaler", async () => {
    const token = await newWorkspace();
    const d = (await (await deploy(token, manifest("ad", [{ name: "f", options: { scaledownWindowMs: "auto" } }, { name: "g" }]))).json()) as {
      functions: Array<{ functionId: string }>;
    };
    const [f, g] = d.functions.map((x) => x.functionId);
    const stats = async (fid: string) => (await (await api(token).get(`/v1/functions/${fid}/stats`)).json()) as FunctionStats;

    const learning = await stats(f!);
    expect(learning.autoscaler.scaledownWindowMs).toBe("auto");
    expect(learning.adaptive).toMatchObject({ representative: false, keepAliveMs: 60_000, prewarmAfterMs: null, prewarmAtMs: null, samples: 0 });
    expect(learning.adaptive!.reason).toMatch(/learning: 0 of 6 idle intervals seen: fixed 60.0 s window/);

    expect((await stats(g!)).adaptive).toBeUndefined();
    const patched = await api(token).json("PATCH", `/v1/functions/${g}/autoscaler`, { scaledownWindowMs: "auto" });
    expect(await patched.json()).toMatchObject({ scaledownWindowMs: "auto" });
    expect((await stats(g!)).autoscalerSources?.scaledownWindowMs).toBe("override");
    expect((await stats(g!)).adaptive?.representative).toBe(false);

    const bad = await api(token).json("PATCH", `/v1/functions/${g}/autoscaler`, { scaledownWindowMs: "sometimes" });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).message).toMatch(/"scaledownWindowMs" must be a whole number of milliseconds or "auto", got "sometimes"/);
    await api(token).json("PATCH", `/v1/functions/${g}/autoscaler`, { scaledownWindowMs: 5_000 });
    expect((await stats(g!)).adaptive).toBeUndefined();
  });

  it("refuses a deploy with any other word, naming the function and the option", async () => {
    const token = await newWorkspace();
    const res = await deploy(token, manifest("ad2", [{ name: "f", options: { scaledownWindowMs: "adaptive" } }]));
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toMatch(/function "f": option "scaledownWindowMs" must be a whole number of milliseconds or "auto", got "adaptive"/);
  });
});

describe("the pool's rhythm", () => {
  it("records the idle interval when an input arrives at an idle pool, and keeps the histogram through an eviction", async () => {
    // The container takes the input and keeps it: the pool stays busy.
    fakeCompute.script("adaptive", [], "hold");
    const id = env.POOL.newUniqueId();
    const stub = env.POOL.get(id);
    await stub.configure(config());
    // Nine intervals of about 20 s learned before, and idle for the last 20 s.
    const nowMs = Date.now();
    let learned: PoolRhythm = { ...emptyRhythm(), busy: false, idleSinceMs: nowMs - 20_000 };
    for (let i = 0; i < 9; i++) learned = { ...learned, histogram: recordIdle(learned.histogram, 20_000 + i * 100) };
    await runInDurableObject(stub, (_, state) => {
      state.storage.sql.exec(
        "INSERT INTO meta (key, value) VALUES ('rhythm', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        JSON.stringify(learned),
      );
    });
    await abortAllDurableObjects();

    const before = await env.POOL.get(id).stats("ws-adaptive");
    if (!before.ok) throw new Error(before.error.message);
    expect(before.value.adaptive).toMatchObject({ representative: true, samples: 9 });
    expect(before.value.adaptive!.prewarmAtMs).toBeGreaterThan(nowMs - 20_000);

    const call = await env.POOL.get(id).createCall(config(), {
      kind: "remote",
      method: null,
      inputs: [{ idx: 0, args: encode([]) }],
      closed: true,
      waitMs: 0,
      requestId: null,
    });
    expect(call.ok).toBe(true);
    await abortAllDurableObjects();

    const stored = await runInDurableObject(
      env.POOL.get(id),
      (_, state) => JSON.parse(state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'rhythm'").one().value) as PoolRhythm,
    );
    expect(stored.busy).toBe(true);
    expect(weight(stored.histogram)).toBe(10);
    const after = await env.POOL.get(id).stats("ws-adaptive");
    if (!after.ok) throw new Error(after.error.message);
    expect(after.value.adaptive?.samples).toBe(10);
  });
});

// A pool's admission limits (src/pool/limits.ts) at their real sizes: 25 000
// inputs pending or running, and 1 000 000 spawned calls waiting to run. The
// running inputs are held by fake runners (fake-compute.ts) that never answer.
import { describe, it, expect } from "vitest";
import { env } from "cloudflare:test";
import { buildConfig, poolStubOfCall } from "../../src/control/pools";
import { db, findFunctionById } from "../../src/db/queries";
import { MAX_PENDING_SPAWNS, MAX_TOTAL_INPUTS } from "../../src/pool/limits";
import { decode, encode } from "../../sdk/src/wire/serialization";
import { fakeCompute } from "./fake-compute";
import { BASE, api, deploy, errorOf, manifest, newWorkspace } from "./helpers";

/** Inputs in one request, the API's maximum. */
const BATCH = 1_000;

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function deployed(app: string, options: Record<string, unknown>): Promise<{ token: string; functionId: string }> {
  const token = await newWorkspace(app);
  const res = await deploy(token, manifest(app, [{ name: "f", options }]));
  expect(res.status).toBe(201);
  return { token, functionId: ((await res.json()) as { functions: Array<{ functionId: string }> }).functions[0].functionId };
}

const inputs = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ idx: from + i, args: encode([from + i]) }));

describe("pool limits at their real sizes", () => {
  it(`refuses inputs past ${MAX_TOTAL_INPUTS} pending or running with RESOURCE_EXHAUSTED`, async () => {
    const app = "total-limit";
    fakeCompute.script(app, [], "hold");
    const { token, functionId } = await deployed(app, { maxContainers: 25, concurrent: { maxInputs: 1_000 } });
    const created = await api(token).cbor(`/v1/functions/${functionId}/calls`, { kind: "map", inputs: [], closed: false });
    const { callId } = decode<{ callId: string }>(new Uint8Array(await created.arrayBuffer()));
    // Batch by batch, each handed to the containers before the next (the 2 000 pending limit is not what this tests).
    for (let sent = 0; sent < MAX_TOTAL_INPUTS; sent += BATCH) {
      const res = await api(token).cbor(`/v1/calls/${callId}/inputs`, { inputs: inputs(sent, BATCH), closed: false });
      expect(res.status, `batch from ${sent}`).toBe(200);
      await until(`${sent + BATCH} inputs on containers`, () => fakeCompute.held(app) === sent + BATCH);
    }
    const refused = await api(token).cbor(`/v1/calls/${callId}/inputs`, { inputs: inputs(MAX_TOTAL_INPUTS, 1), closed: false });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await errorOf(refused)).toMatchObject({
      code: "RESOURCE_EXHAUSTED",
      message: `function f has ${MAX_TOTAL_INPUTS} inputs pending or running; the limit is ${MAX_TOTAL_INPUTS}`,
    });
    const stats = (await (await api(token).get(`/v1/functions/${functionId}/stats`)).json()) as { backlog: number; runningInputs: number };
    expect(stats).toMatchObject({ backlog: 0, runningInputs: MAX_TOTAL_INPUTS });
  }, 180_000);

  it(`refuses spawns past ${MAX_PENDING_SPAWNS} waiting with RESOURCE_EXHAUSTED`, async () => {
    const app = "spawn-limit";
    fakeCompute.script(app, [], "hold");
    const { token, functionId } = await deployed(app, { maxContainers: 1 });
    const spawn = () => api(token).cbor(`/v1/functions/${functionId}/spawns`, { inputs: [{ idx: 0, args: encode([1]) }] });
    const first = await spawn();
    expect(first.status).toBe(200);
    const [firstCall] = decode<{ callIds: string[] }>(new Uint8Array(await first.arrayBuffer())).callIds;
    // Delivered and running: from here every spawned call waiting is one admitted below.
    await until("the first spawned call on a container", () => fakeCompute.held(app) === 1);
    const stub = poolStubOfCall(env, firstCall);
    const { workspaceId } = (await env.DB.prepare("SELECT a.workspace_id AS workspaceId FROM functions f JOIN apps a ON a.id = f.app_id WHERE f.id = ?")
      .bind(functionId)
      .first<{ workspaceId: string }>())!;
    // The config the API hands the pool with each call, resolved from D1 as the API does.
    const config = buildConfig((await findFunctionById(db(env.DB), workspaceId, functionId))!, { settings: {}, sources: {} }, null, BASE);
    // The pool's own admission, in large counts through its RPC (the API admits at most 1 000 per request).
    const chunk = 100_000;
    for (let admitted = 0; admitted < MAX_PENDING_SPAWNS; admitted += chunk) {
      const result = await stub.admitSpawns(config, chunk);
      expect(result.ok, `admitting from ${admitted}`).toBe(true);
    }
    const refused = await spawn();
    expect(refused.status).toBe(429);
    expect(await errorOf(refused)).toMatchObject({
      code: "RESOURCE_EXHAUSTED",
      message: `function f has ${MAX_PENDING_SPAWNS} pending spawned calls; the limit is ${MAX_PENDING_SPAWNS}`,
    });
  }, 300_000);
});

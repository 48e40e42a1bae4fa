// Autoscaler settings come in layers: declared options, `updateAutoscaler`
// overrides and scaling-schedule entries, written at different times and in
// any order. Whatever the order, the pool keeps serving, updateAutoscaler
// keeps working, and a conflict is resolved as the README says: per field the
// latest write wins, and a minContainers above maxContainers is held at
// maxContainers (its source shows "clamped"). Partial overrides made at the
// same moment all survive.
import { describe, it, expect } from "vitest";
import { env } from "cloudflare:test";
import { runDueSchedules } from "../../src/schedule/schedules";
import { api, deploy, errorOf, manifest, newWorkspace } from "./helpers";
import { encode } from "../../sdk/src/wire/serialization";
import { bytesToBase64url } from "../../sdk/src/wire/base64url";

type Settings = { minContainers: number; maxContainers: number | null; bufferContainers: number; scaledownWindowMs: number };
type Stats = { autoscaler: Settings; autoscalerSources: Record<keyof Settings, string> };

/** The next 1 January / 1 July 00:00 UTC after `fromMs`: when the test app's scaling entries fire. */
function nextFirstOf(month: 0 | 6, fromMs: number): number {
  const from = new Date(fromMs);
  for (let year = from.getUTCFullYear(); ; year++) {
    const at = Date.UTC(year, month, 1);
    if (at > fromMs) return at;
  }
}

/** Deploys a function whose scaling schedule sets minContainers 2 on 1 January and 0 on 1 July. */
async function deployScaled(appName: string, workspaceToken?: string): Promise<{ token: string; fid: string }> {
  const token = workspaceToken ?? (await newWorkspace(appName));
  const m = manifest(appName, [
    {
      name: "f",
      options: {
        scalingSchedule: [
          { cron: "0 0 1 1 *", timezone: "UTC", set: { minContainers: 2 } },
          { cron: "0 0 1 7 *", timezone: "UTC", set: { minContainers: 0 } },
        ],
      },
    },
  ]);
  const res = await deploy(token, m);
  expect(res.status).toBe(201);
  const fid = ((await res.json()) as { functions: Array<{ functionId: string }> }).functions[0].functionId;
  return { token, fid };
}

function poolOf(token: string, fid: string, params?: unknown) {
  const query = params === undefined ? "" : `?params=${bytesToBase64url(encode(params))}`;
  return {
    stats: async (): Promise<Stats> => {
      const res = await api(token).get(`/v1/functions/${fid}/stats${query}`);
      expect(res.status, "GET stats").toBe(200);
      return (await res.json()) as Stats;
    },
    update: (body: Record<string, unknown>) => api(token).json("PATCH", `/v1/functions/${fid}/autoscaler${query}`, body),
    /** A remote() call: accepted (the pool queues it; no container starts in these tests). */
    call: () => api(token).cbor(`/v1/functions/${fid}/calls`, { kind: "remote", inputs: [{ idx: 0, args: encode([]) }], closed: true }),
  };
}

/** Fires every scaling entry due at `atMs` (and any other schedule due then). */
async function fireAt(atMs: number): Promise<void> {
  expect((await runDueSchedules(env, atMs + 10_000)).scalings).toBeGreaterThanOrEqual(1);
}

describe("overrides and scaling-schedule entries in any order", () => {
  it("an override's maxContainers 1, then an entry's minContainers 2: min is held at max, and the pool serves", async () => {
    const { token, fid } = await deployScaled("layers-a");
    const pool = poolOf(token, fid);
    expect((await pool.update({ minContainers: 0, maxContainers: 1 })).status).toBe(200);
    const january = nextFirstOf(0, Date.now());
    await fireAt(january);

    const clamped = await pool.stats();
    expect(clamped.autoscaler).toMatchObject({ minContainers: 1, maxContainers: 1 });
    expect(clamped.autoscalerSources).toMatchObject({ minContainers: "clamped", maxContainers: "override" });
    expect((await pool.call()).status).toBe(200);

    // updateAutoscaler keeps working: raising the ceiling lets the entry's 2 through.
    expect((await pool.update({ bufferContainers: 1 })).status).toBe(200);
    expect((await pool.update({ maxContainers: 3 })).status).toBe(200);
    const raised = await pool.stats();
    expect(raised.autoscaler).toMatchObject({ minContainers: 2, maxContainers: 3, bufferContainers: 1 });
    expect(raised.autoscalerSources).toMatchObject({ minContainers: "schedule", maxContainers: "override", bufferContainers: "override" });
  });

  it("an entry's minContainers 2, then an override: one that conflicts is refused naming why, one that does not applies", async () => {
    const { token, fid } = await deployScaled("layers-b");
    const pool = poolOf(token, fid);
    await fireAt(nextFirstOf(0, Date.now()));
    expect((await pool.stats()).autoscaler.minContainers).toBe(2);

    const refused = await pool.update({ maxContainers: 1 });
    expect(refused.status).toBe(400);
    expect((await errorOf(refused)).message).toMatch(/"minContainers" \(2\) must not exceed "maxContainers" \(1\)/);
    expect((await pool.update({ minContainers: 0, maxContainers: 1 })).status).toBe(200);
    expect((await pool.stats()).autoscalerSources).toMatchObject({ minContainers: "override", maxContainers: "override" });

    // The next entries keep firing over the override, field by field, and the pool keeps serving.
    const july = nextFirstOf(6, Date.now());
    await fireAt(july);
    expect((await pool.stats()).autoscaler).toMatchObject({ minContainers: 0, maxContainers: 1 });
    await fireAt(nextFirstOf(0, july));
    const after = await pool.stats();
    expect(after.autoscaler).toMatchObject({ minContainers: 1, maxContainers: 1 });
    expect(after.autoscalerSources).toMatchObject({ minContainers: "clamped", maxContainers: "override" });
    expect((await pool.call()).status).toBe(200);
    expect((await pool.update({ minContainers: 0 })).status).toBe(200);
    expect((await pool.stats()).autoscalerSources.minContainers).toBe("override");
  });

  it("a class instance's minContainers, then a class-wide entry's maxContainers below it: the instance is clamped and serves", async () => {
    const token = await newWorkspace("layers-c");
    const m = manifest("layers-c", [
      {
        name: "Model",
        kind: "class",
        methods: ["predict"],
        options: {
          scalingSchedule: [
            { cron: "0 0 1 1 *", timezone: "UTC", set: { maxContainers: 2 } },
            { cron: "0 0 1 7 *", timezone: "UTC", set: { maxContainers: 10 } },
          ],
        },
      },
    ]);
    const res = await deploy(token, m);
    expect(res.status).toBe(201);
    const fid = ((await res.json()) as { functions: Array<{ functionId: string }> }).functions[0].functionId;
    const instance = poolOf(token, fid, { v: 1 });
    expect((await instance.update({ minContainers: 3 })).status).toBe(200);
    await fireAt(nextFirstOf(0, Date.now()));
    const stats = await instance.stats();
    expect(stats.autoscaler).toMatchObject({ minContainers: 2, maxContainers: 2 });
    expect(stats.autoscalerSources).toMatchObject({ minContainers: "clamped", maxContainers: "schedule" });
    expect((await instance.update({ bufferContainers: 1 })).status).toBe(200);
  });

  it("a deploy clears the overrides and a clamp with them", async () => {
    const { token, fid } = await deployScaled("layers-d");
    const pool = poolOf(token, fid);
    expect((await pool.update({ maxContainers: 1 })).status).toBe(200);
    await fireAt(nextFirstOf(0, Date.now()));
    expect((await pool.stats()).autoscalerSources.minContainers).toBe("clamped");
    await deployScaled("layers-d", token);
    const redeployed = await poolOf(token, fid).stats();
    expect(redeployed.autoscaler.maxContainers).toBeNull();
    expect(redeployed.autoscalerSources.maxContainers).toBe("declared");
  });
});

describe("concurrent partial overrides", () => {
  it("keeps every field of many partial updates made at the same moment", async () => {
    const token = await newWorkspace("merge-race");
    const res = await deploy(token, manifest("merge-race", [{ name: "f", options: { maxContainers: 50 } }]));
    const fid = ((await res.json()) as { functions: Array<{ functionId: string }> }).functions[0].functionId;
    const pool = poolOf(token, fid);
    const updates: Array<Record<string, unknown>> = [
      { minContainers: 1 },
      { maxContainers: 40 },
      { bufferContainers: 3 },
      { scaledownWindowMs: 7_000 },
      { minContainers: 1 },
      { bufferContainers: 3 },
      { maxContainers: 40 },
      { scaledownWindowMs: 7_000 },
    ];
    const answers = await Promise.all(updates.map((u) => pool.update(u)));
    expect(answers.map((a) => a.status)).toEqual(updates.map(() => 200));
    const expected = { minContainers: 1, maxContainers: 40, bufferContainers: 3, scaledownWindowMs: 7_000 };
    const stored = await env.DB.prepare("SELECT settings, sources FROM autoscaler_overrides WHERE function_id = ? AND instance_key = ''")
      .bind(fid)
      .first<{ settings: string; sources: string }>();
    expect(JSON.parse(stored!.settings)).toEqual(expected);
    expect(JSON.parse(stored!.sources)).toEqual({
      minContainers: "override",
      maxContainers: "override",
      bufferContainers: "override",
      scaledownWindowMs: "override",
    });
    // The pool holds the merged settings too, not the last writer's view of them.
    const stats = await pool.stats();
    expect(stats.autoscaler).toEqual(expected);
  });

  it("keeps a maxContainers of null (no ceiling) when merged with other fields", async () => {
    const token = await newWorkspace("merge-null");
    const res = await deploy(token, manifest("merge-null", [{ name: "f", options: { maxContainers: 5 } }]));
    const fid = ((await res.json()) as { functions: Array<{ functionId: string }> }).functions[0].functionId;
    const pool = poolOf(token, fid);
    expect((await pool.update({ maxContainers: null })).status).toBe(200);
    expect((await pool.update({ bufferContainers: 2 })).status).toBe(200);
    expect((await pool.stats()).autoscaler).toMatchObject({ maxContainers: null, bufferContainers: 2 });
    expect((await pool.stats()).autoscalerSources.maxContainers).toBe("override");
  });
});

// The Cron Trigger handler against real D1 and pools: each due time fires
// once, however often or late the handler runs.
import { describe, it, expect } from "vitest";
import { env } from "cloudflare:test";
import { runDueSchedules } from "../../src/schedule/schedules";
import { api, deploy, manifest, newWorkspace } from "./helpers";

const HOUR = 3_600_000;

async function createdAt(functionName: string): Promise<number> {
  const row = await env.DB.prepare("SELECT s.created_at AS t FROM schedules s JOIN functions f ON f.id = s.function_id WHERE f.name = ? LIMIT 1")
    .bind(functionName)
    .first<{ t: number }>();
  return row!.t;
}

describe("schedules", () => {
  it("fires a period schedule once per due time, and once after a gap", async () => {
    const token = await newWorkspace();
    const res = await deploy(token, manifest("periodic", [{ name: "tick5", options: { schedule: { type: "period", seconds: 300 } } }]));
    expect(res.status).toBe(201);
    const anchor = await createdAt("tick5");
    const at = (ms: number) => runDueSchedules(env, anchor + ms);
    expect((await at(4 * 60_000)).runs).toBe(0);
    expect((await at(5 * 60_000 + 1_000)).runs).toBe(1);
    expect((await at(5 * 60_000 + 30_000)).runs).toBe(0); // the same minute again
    expect((await at(60 * 60_000)).runs).toBe(1); // after a gap: once, not once per missed period
    expect((await at(60 * 60_000)).runs).toBe(0);
  });

  it("applies scaling entries at deploy and at their times, with the source recorded", async () => {
    const token = await newWorkspace();
    const m = manifest("scaler", [
      {
        name: "served",
        options: {
          scalingSchedule: [
            { cron: "0 6 * * *", timezone: "UTC", set: { scaledownWindowMs: 5_000 } },
            { cron: "0 22 * * *", timezone: "UTC", set: { scaledownWindowMs: 9_000 } },
          ],
        },
      },
    ]);
    const deployed = (await (await deploy(token, m)).json()) as { functions: Array<{ functionId: string }> };
    const fid = deployed.functions[0].functionId;
    const stats = async () =>
      (await (await api(token).get(`/v1/functions/${fid}/stats`)).json()) as {
        autoscaler: { scaledownWindowMs: number };
        autoscalerSources: { scaledownWindowMs: string };
      };
    const hour = new Date().getUTCHours();
    const daytime = hour >= 6 && hour < 22;
    const first = await stats();
    expect(first.autoscaler.scaledownWindowMs).toBe(daytime ? 5_000 : 9_000);
    expect(first.autoscalerSources.scaledownWindowMs).toBe("schedule");

    // The other entry's next time: the handler applies it once.
    const now = new Date();
    const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), daytime ? 22 : 6));
    if (next.getTime() <= now.getTime()) next.setTime(next.getTime() + 24 * HOUR);
    const applied = await runDueSchedules(env, next.getTime() + 10_000);
    expect(applied.scalings).toBe(1);
    expect((await stats()).autoscaler.scaledownWindowMs).toBe(daytime ? 9_000 : 5_000);
    expect((await runDueSchedules(env, next.getTime() + 20_000)).scalings).toBe(0);
  });

  it("refuses a schedule on a class, naming it", async () => {
    const token = await newWorkspace();
    const res = await deploy(
      token,
      manifest("clsched", [{ name: "Model", kind: "class", methods: ["predict"], options: { schedule: { type: "period", seconds: 300 } } }]),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/class "Model": option "schedule"/);
  });
});

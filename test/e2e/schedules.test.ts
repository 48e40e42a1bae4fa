// Issue "Time-based scaling": schedules fire on their own under the local
// platform (as the Cron Trigger does in production), a scheduled function
// uses the SDK against its own platform with no configuration, and scaling
// schedules change settings with no container started for them.
import { describe, it, expect, beforeAll } from "vitest";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "../../sdk/src/index";
import type { FunctionStats } from "../../sdk/src/index";
import { ROOT, client, deploy, squall, until } from "./helpers";

/** Writes an app whose scaling entries sit on minutes relative to now, so one of them falls due during the test. */
function writeScheduleApp(): string {
  const dir = join(ROOT, "test-artifacts", "apps");
  mkdirSync(dir, { recursive: true });
  const next = (new Date().getUTCMinutes() + 1) % 60;
  const opposite = (next + 30) % 60;
  const file = join(dir, "schedules.ts");
  writeFileSync(
    file,
    `import { App, Cron } from "squall";
export const app = new App("sched");
export const target = app.function({}, async function target() { return "target"; });
// Runs every minute and changes another function's settings through the SDK, from inside its container.
export const everyMinute = app.function({ schedule: new Cron("* * * * *") }, async function everyMinute() {
  await target.updateAutoscaler({ bufferContainers: 3 });
});
// Declarative: applied by the platform at ${next} past the hour; ${opposite} past was the last entry before the deploy.
export const warm = app.function({
  scaledownWindowMs: 3000,
  scalingSchedule: [
    { cron: "${next} * * * *", set: { minContainers: 1 } },
    { cron: "${opposite} * * * *", set: { scaledownWindowMs: 2000 } },
  ],
}, async function warm() { return "warm"; });
`,
  );
  return file;
}

describe("schedules", () => {
  let target: Awaited<ReturnType<Client["functions"]["fromName"]>>;
  let warm: Awaited<ReturnType<Client["functions"]["fromName"]>>;

  beforeAll(async () => {
    await deploy(writeScheduleApp());
    target = await client().functions.fromName("sched", "target");
    warm = await client().functions.fromName("sched", "warm");
  });

  it("applies the scaling entry whose time most recently passed at deploy, and lists schedules", async () => {
    const stats = await warm.getCurrentStats();
    expect(stats.autoscaler.scaledownWindowMs).toBe(2000);
    expect(stats.autoscalerSources?.scaledownWindowMs).toBe("schedule");
    expect(stats.autoscaler.minContainers).toBe(0);
    const list = await squall(["schedule", "list", "sched", "--json"]);
    expect(list.code).toBe(0);
    const schedules = (JSON.parse(list.stdout) as { schedules: Array<{ function: string; kind: string; nextRuns: number[] }> }).schedules;
    expect(schedules.map((s) => `${s.function}:${s.kind}`).sort()).toEqual(["everyMinute:run", "warm:scaling", "warm:scaling"]);
    const minute = schedules.find((s) => s.function === "everyMinute")!;
    expect(minute.nextRuns[1] - minute.nextRuns[0]).toBe(60_000);
    const human = await squall(["schedule", "list", "sched"]);
    expect(human.stdout).toMatch(/everyMinute\s+run, cron "\* \* \* \* \*"/);
  });

  it("fires a * * * * * schedule on its own; the function changes another function's pool through the SDK", async () => {
    const stats = await until<FunctionStats>(
      "the scheduled function to run",
      () => target.getCurrentStats(),
      (s) => s.autoscaler.bufferContainers === 3,
      150_000,
      1_000,
    );
    expect(stats.autoscalerSources?.bufferContainers).toBe("override");
  }, 180_000);

  it("applies a scaling entry at its time with no container started for it", async () => {
    const stats = await until<FunctionStats>(
      "the scaling entry",
      () => warm.getCurrentStats(),
      (s) => s.autoscaler.minContainers === 1,
      150_000,
      1_000,
    );
    expect(stats.autoscalerSources?.minContainers).toBe("schedule");
    // The warm pool follows the new floor; nothing ran the function itself to get there.
    const warmed = await until<FunctionStats>(
      "the warm pool",
      () => warm.getCurrentStats(),
      (s) => s.containers.total === 1,
      30_000,
      1_000,
    );
    expect(warmed.runningInputs).toBe(0);
    expect(warmed.backlog).toBe(0);
  }, 180_000);
});

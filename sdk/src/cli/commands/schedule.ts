import type { ScheduleInfo } from "../../wire/api.js";
import type { Command } from "../command.js";
import { table, toJson } from "../io.js";
import { ROUTES } from "../../wire/routes.js";

export const scheduleList: Command = {
  path: "schedule list",
  args: "APP",
  summary: "list an app's schedules with their next run times (UTC and their own timezone)",
  arity: [1, 1],
  async run(ctx) {
    const [app] = ctx.args;
    const res = await ctx.http().send(ROUTES.listSchedules, { params: { app } });
    if (ctx.json) {
      ctx.io.out(toJson(res));
      return;
    }
    if (res.schedules.length === 0) {
      ctx.io.out(`app ${app} has no schedules`);
      return;
    }
    const rows = res.schedules.map((s) => [s.function, describe(s), s.timezone, nextRun(s)]);
    ctx.io.out(table(["FUNCTION", "SCHEDULE", "TIMEZONE", "NEXT RUNS (UTC | local)"], rows));
  },
};

function describe(s: ScheduleInfo): string {
  const when = s.cron !== null ? `cron "${s.cron}"` : `every ${s.periodSeconds} s`;
  if (s.kind === "run") return `run, ${when}`;
  const set = Object.entries(s.set ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  return `scale ${set}, ${when}`;
}

function nextRun(s: ScheduleInfo): string {
  return s.nextRuns.map((ms) => `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} | ${localTime(ms, s.timezone)}`).join("; ");
}

function localTime(ms: number, timezone: string): string {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone: timezone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  })
    .format(new Date(ms))
    .replace(",", "");
}

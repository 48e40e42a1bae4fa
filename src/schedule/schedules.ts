// Schedules in D1: written at deploy, fired by the every-minute Cron Trigger
// (docs/architecture.md "Schedules"). Due-time logic lives in due.ts (pure); this file
// is the I/O around it.
import { and, eq, inArray } from "drizzle-orm";
import type { Env } from "../env";
import * as schema from "../db/schema";
import { db, mergeOverride, type Db, type FunctionRow, type AppRow } from "../db/queries";
import { resolveOptions, type ScheduleSpec, type AutoscalerUpdate } from "../../sdk/src/wire/options";
import { encode } from "../../sdk/src/wire/serialization";
import { randomId } from "../auth/crypto";
import { activeScalingEntry, dueRun, nextRuns } from "./due";
import type { ScheduleInfo } from "../../sdk/src/wire/api";
import { currentPool, reconfigurePools } from "../control/pools";
import { spawnCalls } from "../spawn/producer";

export interface ScalingSpec {
  cron: string;
  timezone: string;
  set: AutoscalerUpdate;
  index: number;
}

type ScheduleRow = typeof schema.schedules.$inferSelect;

/** The schedule a row describes, as due.ts reads it. */
export function specOf(row: Pick<ScheduleRow, "kind" | "spec">): ScheduleSpec {
  if (row.kind === "run") return row.spec as ScheduleSpec;
  const s = row.spec as ScalingSpec;
  return { type: "cron", expression: s.cron, timezone: s.timezone };
}

/** Replaces the schedules of a deployed app's functions with the ones its options declare. */
export async function replaceSchedules(d: Db, functions: FunctionRow[], nowMs: number): Promise<void> {
  const ids = functions.map((f) => f.id);
  const rows: Array<typeof schema.schedules.$inferInsert> = [];
  for (const fn of functions) {
    const options = resolveOptions(fn.name, fn.options);
    if (options.schedule) rows.push({ id: randomId("sc-"), functionId: fn.id, kind: "run", spec: options.schedule, lastDueAt: null, createdAt: nowMs });
    options.scalingSchedule.forEach((entry, index) => {
      const spec: ScalingSpec = { ...entry, index };
      rows.push({ id: randomId("sc-"), functionId: fn.id, kind: "scaling", spec, lastDueAt: null, createdAt: nowMs });
    });
  }
  const statements = [
    d.delete(schema.schedules).where(inArray(schema.schedules.functionId, ids.length ? ids : [""])),
    ...rows.map((r) => d.insert(schema.schedules).values(r)),
  ];
  await d.batch(statements as [(typeof statements)[number], ...(typeof statements)[number][]]);
}

/**
 * After a deploy (which clears overrides), applies each function's scaling
 * schedule entry whose time most recently passed, so a deploy at noon keeps
 * the daytime warm pool. Returns the functions whose settings changed.
 */
export async function applyActiveScalingEntries(d: Db, functions: FunctionRow[], nowMs: number): Promise<FunctionRow[]> {
  const changed: FunctionRow[] = [];
  for (const fn of functions) {
    const options = resolveOptions(fn.name, fn.options);
    const active = activeScalingEntry(options.scalingSchedule, nowMs);
    if (!active) continue;
    await mergeOverride(d, fn, "", options.scalingSchedule[active.index].set, "schedule");
    await d
      .update(schema.schedules)
      .set({ lastDueAt: active.dueAtMs })
      .where(and(eq(schema.schedules.functionId, fn.id), eq(schema.schedules.kind, "scaling")));
    changed.push(fn);
  }
  return changed;
}

/** The Cron Trigger's work: fires every schedule due now, each due time exactly once. */
export async function runDueSchedules(env: Env, nowMs: number): Promise<{ runs: number; scalings: number }> {
  const d = db(env.DB);
  const due = await d
    .select({ schedule: schema.schedules, fn: schema.functions, app: schema.apps })
    .from(schema.schedules)
    .innerJoin(schema.functions, eq(schema.schedules.functionId, schema.functions.id))
    .innerJoin(schema.apps, eq(schema.functions.appId, schema.apps.id))
    .where(and(eq(schema.functions.live, true), eq(schema.apps.state, "deployed")))
    .all();
  let runs = 0;
  let scalings = 0;
  for (const { schedule, fn, app } of due) {
    const next = dueRun(specOf(schedule), schedule.lastDueAt, nowMs, schedule.createdAt);
    if (!next) continue;
    if (!(await claim(env, schedule.id, next.dueAtMs))) continue;
    try {
      if (schedule.kind === "run") {
        await fireRun(env, d, fn, app);
        runs++;
      } else {
        const configVersion = await mergeOverride(d, fn, "", (schedule.spec as ScalingSpec).set, "schedule");
        await reconfigurePools(env, d, { fn: { ...fn, configVersion }, app }, env.SQUALL_PUBLIC_URL);
        scalings++;
      }
    } catch (err) {
      // Give the due time back so the next minute tries again.
      await env.DB.prepare("UPDATE schedules SET last_due_at = ?1 WHERE id = ?2 AND last_due_at = ?3")
        .bind(schedule.lastDueAt, schedule.id, next.dueAtMs)
        .run();
      console.error(`schedule ${schedule.id} of ${app.name}.${fn.name} failed to fire: ${(err as Error).message}`);
    }
  }
  return { runs, scalings };
}

/** Takes a due time for this schedule; false if another run of the handler took it first. */
async function claim(env: Env, scheduleId: string, dueAtMs: number): Promise<boolean> {
  const result = await env.DB.prepare("UPDATE schedules SET last_due_at = ?1 WHERE id = ?2 AND (last_due_at IS NULL OR last_due_at < ?1)")
    .bind(dueAtMs, scheduleId)
    .run();
  return result.meta.changes === 1;
}

async function fireRun(env: Env, d: Db, fn: FunctionRow, app: AppRow): Promise<void> {
  const pool = await currentPool(env, d, { fn, app }, env.SQUALL_PUBLIC_URL);
  const spawned = await spawnCalls(env, pool, [encode([])], null);
  if (!spawned.ok) throw new Error(spawned.error.message);
}

/** Every schedule of an app with its next due times, for `squall schedule list`. */
export async function listSchedules(d: Db, app: AppRow, nowMs: number, count = 3): Promise<ScheduleInfo[]> {
  const rows = await d
    .select({ schedule: schema.schedules, fn: schema.functions })
    .from(schema.schedules)
    .innerJoin(schema.functions, eq(schema.schedules.functionId, schema.functions.id))
    .where(and(eq(schema.functions.appId, app.id), eq(schema.functions.live, true)))
    .all();
  return rows.map(({ schedule, fn }) => {
    const spec = specOf(schedule);
    return {
      function: fn.name,
      kind: schedule.kind,
      cron: spec.type === "cron" ? spec.expression : null,
      periodSeconds: spec.type === "period" ? spec.seconds : null,
      timezone: spec.type === "cron" ? spec.timezone : "UTC",
      set: schedule.kind === "scaling" ? (schedule.spec as ScalingSpec).set : null,
      lastDueAt: schedule.lastDueAt,
      nextRuns: nextRuns(spec, nowMs, count, schedule.createdAt),
    };
  });
}

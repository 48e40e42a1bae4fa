// The options of `app.function` / `app.cls` and of `updateAutoscaler`, their
// defaults and their validation (README "Autoscaler settings in layers"). Pure: shared by the CLI (checks
// before upload) and the Worker (the authority at deploy).
import { Cron as CronParser } from "croner";

export interface RetryPolicy {
  maxRetries: number;
  backoffCoefficient?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/** Dynamic batching (README "Dynamic batching"): inputs grouped into one call of the function with lists. */
export interface BatchedOptions {
  maxBatchSize: number;
  waitMs: number;
}

export interface ConcurrencyOptions {
  maxInputs: number;
  targetInputs?: number;
}

/**
 * How long an idle container stays: a fixed number of milliseconds, or
 * "auto": the pool learns the function's idle intervals and picks each
 * container's keep-alive and a pre-warm time from them (README "Adaptive
 * scale-down"), behaving as the default fixed window until it has learned.
 */
export type ScaledownWindow = number | "auto";

/** The four settings that `updateAutoscaler` and scaling schedules may change. */
export interface AutoscalerSettings {
  minContainers: number;
  maxContainers: number | null;
  bufferContainers: number;
  scaledownWindowMs: ScaledownWindow;
}

export type AutoscalerUpdate = Partial<AutoscalerSettings>;

export type ScheduleSpec = { type: "cron"; expression: string; timezone: string } | { type: "period"; seconds: number };

export interface ScalingScheduleEntry {
  cron: string;
  timezone?: string;
  set: AutoscalerUpdate;
}

/** Options as they travel in a deploy manifest (plain JSON). */
export interface FunctionOptionsWire {
  maxContainers?: number;
  minContainers?: number;
  bufferContainers?: number;
  scaledownWindowMs?: ScaledownWindow;
  concurrent?: ConcurrencyOptions;
  batched?: BatchedOptions;
  timeoutMs?: number;
  /** How long a container may take to become ready (download, import, enter()) before the start counts as failed. */
  startupTimeoutMs?: number;
  retries?: number | RetryPolicy;
  schedule?: ScheduleSpec;
  scalingSchedule?: ScalingScheduleEntry[];
  name?: string;
  /** Set by `app.function` for an `async function*` (or `function*`): its calls stream what it yields (`remoteGen`). Not an option to pass. */
  generator?: boolean;
}

/** Every option with its default filled in. */
export interface ResolvedOptions extends AutoscalerSettings {
  /**
   * Input slots per container, which is what the pool dispatches and the
   * autoscaler counts: concurrent.maxInputs, times maxBatchSize for a batched
   * function (each slot of concurrency runs one batch).
   */
  maxInputs: number;
  targetInputs: number;
  batched: BatchedOptions | null;
  timeoutMs: number;
  startupTimeoutMs: number;
  retries: Required<RetryPolicy>;
  schedule: ScheduleSpec | null;
  scalingSchedule: Array<Required<ScalingScheduleEntry>>;
}

export const DEFAULTS = {
  minContainers: 0,
  maxContainers: null,
  bufferContainers: 0,
  scaledownWindowMs: 60_000,
  maxInputs: 1,
  timeoutMs: 300_000,
  startupTimeoutMs: 120_000,
  timezone: "UTC",
} as const;

// Bounds follow Modal's where it has them; the container bounds keep one
// pool's fan-out within what a Cloudflare account can run at once.
export const BOUNDS = {
  containers: 1_000,
  scaledownWindowMs: { min: 2_000, max: 3_600_000 },
  maxInputs: 1_000,
  timeoutMs: { min: 1_000, max: 86_400_000 },
  startupTimeoutMs: { min: 1_000, max: 3_600_000 },
  maxRetries: 10,
  backoffCoefficient: { min: 1, max: 10 },
  delayMs: { min: 0, max: 60_000 },
  periodSeconds: { min: 60, max: 366 * 86_400 },
  maxBatchSize: 1_000,
  batchWaitMs: 600_000,
} as const;

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export class OptionsError extends Error {
  override name = "OptionsError";
}

export function checkName(kind: string, name: unknown): string {
  if (typeof name !== "string" || !NAME_RE.test(name)) {
    throw new OptionsError(`${kind} name ${JSON.stringify(name)} is invalid: use 1 to 64 letters, digits, "-" or "_", starting with a letter or digit`);
  }
  return name;
}

const OPTION_KEYS = new Set([
  "maxContainers",
  "minContainers",
  "bufferContainers",
  "scaledownWindowMs",
  "concurrent",
  "batched",
  "timeoutMs",
  "startupTimeoutMs",
  "retries",
  "schedule",
  "scalingSchedule",
  "name",
  "generator",
]);
const AUTOSCALER_KEYS = new Set(["minContainers", "maxContainers", "bufferContainers", "scaledownWindowMs"]);

/** Validates declared options and fills in defaults. Throws OptionsError naming the function and the option. */
export function resolveOptions(functionName: string, raw: unknown): ResolvedOptions {
  const where = `function "${functionName}"`;
  const o = asObject(raw, `${where}: options`);
  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.has(key)) throw new OptionsError(`${where}: unknown option "${key}"${suggest(key, OPTION_KEYS)}`);
  }
  const scaling = checkAutoscalerFields(where, o, false);
  const settings: AutoscalerSettings = {
    minContainers: scaling.minContainers ?? DEFAULTS.minContainers,
    maxContainers: scaling.maxContainers ?? DEFAULTS.maxContainers,
    bufferContainers: scaling.bufferContainers ?? DEFAULTS.bufferContainers,
    scaledownWindowMs: scaling.scaledownWindowMs ?? DEFAULTS.scaledownWindowMs,
  };
  checkSettingsConsistent(where, settings);

  let maxInputs: number = DEFAULTS.maxInputs;
  let targetInputs: number = DEFAULTS.maxInputs;
  if (o.concurrent !== undefined) {
    const c = asObject(o.concurrent, `${where}: option "concurrent"`);
    for (const key of Object.keys(c)) {
      if (key !== "maxInputs" && key !== "targetInputs") throw new OptionsError(`${where}: unknown option "concurrent.${key}"`);
    }
    maxInputs = int(where, "concurrent.maxInputs", c.maxInputs, 1, BOUNDS.maxInputs);
    targetInputs = c.targetInputs === undefined ? maxInputs : int(where, "concurrent.targetInputs", c.targetInputs, 1, BOUNDS.maxInputs);
    if (targetInputs > maxInputs) {
      throw new OptionsError(`${where}: option "concurrent.targetInputs" (${targetInputs}) must not exceed "concurrent.maxInputs" (${maxInputs})`);
    }
  }
  const timeoutMs = o.timeoutMs === undefined ? DEFAULTS.timeoutMs : int(where, "timeoutMs", o.timeoutMs, BOUNDS.timeoutMs.min, BOUNDS.timeoutMs.max);
  const startupTimeoutMs =
    o.startupTimeoutMs === undefined
      ? DEFAULTS.startupTimeoutMs
      : int(where, "startupTimeoutMs", o.startupTimeoutMs, BOUNDS.startupTimeoutMs.min, BOUNDS.startupTimeoutMs.max);
  if (o.generator !== undefined && typeof o.generator !== "boolean") throw new OptionsError(`${where}: "generator" must be true or false`);
  const batched = o.batched === undefined ? null : resolveBatched(where, o.batched);
  if (batched && o.generator === true) throw new OptionsError(`${where}: option "batched" cannot be used with a generator function (async function*)`);
  const retries = resolveRetries(where, o.retries);
  const schedule = o.schedule === undefined ? null : resolveSchedule(where, o.schedule);
  const scalingSchedule = o.scalingSchedule === undefined ? [] : resolveScalingSchedule(where, o.scalingSchedule, settings);
  if (o.name !== undefined) checkName(`${where}: option "name"`, o.name);
  const perBatch = batched?.maxBatchSize ?? 1;
  return {
    ...settings,
    maxInputs: maxInputs * perBatch,
    targetInputs: targetInputs * perBatch,
    batched,
    timeoutMs,
    startupTimeoutMs,
    retries,
    schedule,
    scalingSchedule,
  };
}

/** How many batches a container of a batched function runs at once: its concurrent.maxInputs. */
export function concurrentBatches(options: ResolvedOptions): number {
  return options.batched ? Math.max(1, Math.floor(options.maxInputs / options.batched.maxBatchSize)) : options.maxInputs;
}

function resolveBatched(where: string, raw: unknown): BatchedOptions {
  const b = asObject(raw, `${where}: option "batched"`);
  for (const key of Object.keys(b)) {
    if (key !== "maxBatchSize" && key !== "waitMs") throw new OptionsError(`${where}: unknown option "batched.${key}"`);
  }
  return {
    maxBatchSize: int(where, "batched.maxBatchSize", b.maxBatchSize, 1, BOUNDS.maxBatchSize),
    waitMs: int(where, "batched.waitMs", b.waitMs, 0, BOUNDS.batchWaitMs),
  };
}

/** Validates a partial autoscaler update (from `updateAutoscaler` or a scaling schedule entry). */
export function checkAutoscalerUpdate(where: string, raw: unknown): AutoscalerUpdate {
  const o = asObject(raw, `${where}: settings`);
  for (const key of Object.keys(o)) {
    if (!AUTOSCALER_KEYS.has(key)) throw new OptionsError(`${where}: unknown setting "${key}"${suggest(key, AUTOSCALER_KEYS)}`);
  }
  return checkAutoscalerFields(where, o, true);
}

/** Merges an update over settings and checks the result still holds together. */
export function applyAutoscalerUpdate(where: string, base: AutoscalerSettings, update: AutoscalerUpdate): AutoscalerSettings {
  const merged: AutoscalerSettings = { ...base };
  for (const key of Object.keys(update) as Array<keyof AutoscalerSettings>) {
    const v = update[key];
    if (v !== undefined) (merged as unknown as Record<string, unknown>)[key] = v;
  }
  checkSettingsConsistent(where, merged);
  return merged;
}

function checkAutoscalerFields(where: string, o: Record<string, unknown>, allowNullMax: boolean): AutoscalerUpdate {
  const out: AutoscalerUpdate = {};
  if (o.minContainers !== undefined) out.minContainers = int(where, "minContainers", o.minContainers, 0, BOUNDS.containers);
  if (o.maxContainers !== undefined) {
    out.maxContainers = o.maxContainers === null && allowNullMax ? null : int(where, "maxContainers", o.maxContainers, 1, BOUNDS.containers);
  }
  if (o.bufferContainers !== undefined) out.bufferContainers = int(where, "bufferContainers", o.bufferContainers, 0, BOUNDS.containers);
  if (o.scaledownWindowMs !== undefined) out.scaledownWindowMs = scaledownWindow(where, o.scaledownWindowMs);
  return out;
}

function scaledownWindow(where: string, v: unknown): ScaledownWindow {
  if (v === "auto") return v;
  if (typeof v !== "number") {
    throw new OptionsError(`${where}: option "scaledownWindowMs" must be a whole number of milliseconds or "auto", got ${JSON.stringify(v)}`);
  }
  return int(where, "scaledownWindowMs", v, BOUNDS.scaledownWindowMs.min, BOUNDS.scaledownWindowMs.max);
}

function checkSettingsConsistent(where: string, s: AutoscalerSettings): void {
  if (s.maxContainers !== null && s.minContainers > s.maxContainers) {
    throw new OptionsError(`${where}: "minContainers" (${s.minContainers}) must not exceed "maxContainers" (${s.maxContainers})`);
  }
}

function resolveRetries(where: string, raw: unknown): Required<RetryPolicy> {
  const base = { maxRetries: 0, backoffCoefficient: 2, initialDelayMs: 1_000, maxDelayMs: 60_000 };
  if (raw === undefined) return base;
  if (typeof raw === "number") return { ...base, maxRetries: int(where, "retries", raw, 0, BOUNDS.maxRetries) };
  const r = asObject(raw, `${where}: option "retries"`);
  for (const key of Object.keys(r)) {
    if (!(key in base)) throw new OptionsError(`${where}: unknown option "retries.${key}"`);
  }
  const policy = {
    maxRetries: int(where, "retries.maxRetries", r.maxRetries, 0, BOUNDS.maxRetries),
    backoffCoefficient:
      r.backoffCoefficient === undefined
        ? base.backoffCoefficient
        : num(where, "retries.backoffCoefficient", r.backoffCoefficient, BOUNDS.backoffCoefficient.min, BOUNDS.backoffCoefficient.max),
    initialDelayMs:
      r.initialDelayMs === undefined ? base.initialDelayMs : int(where, "retries.initialDelayMs", r.initialDelayMs, BOUNDS.delayMs.min, BOUNDS.delayMs.max),
    maxDelayMs: r.maxDelayMs === undefined ? base.maxDelayMs : int(where, "retries.maxDelayMs", r.maxDelayMs, BOUNDS.delayMs.min, BOUNDS.delayMs.max),
  };
  return policy;
}

export function checkTimezone(where: string, tz: unknown): string {
  if (typeof tz !== "string" || tz.length === 0) throw new OptionsError(`${where}: timezone must be an IANA zone name such as "America/New_York"`);
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
  } catch {
    throw new OptionsError(`${where}: unknown timezone ${JSON.stringify(tz)}`);
  }
  return tz;
}

export function checkCron(where: string, expression: unknown, timezone: string): string {
  if (typeof expression !== "string" || expression.trim().split(/\s+/).length !== 5) {
    throw new OptionsError(`${where}: cron expression ${JSON.stringify(expression)} must have 5 fields (minute hour day-of-month month day-of-week)`);
  }
  try {
    new CronParser(expression, { timezone, paused: true });
  } catch (err) {
    throw new OptionsError(`${where}: invalid cron expression ${JSON.stringify(expression)}: ${(err as Error).message}`);
  }
  return expression;
}

function resolveSchedule(where: string, raw: unknown): ScheduleSpec {
  const s = asObject(raw, `${where}: option "schedule"`);
  if (s.type === "cron") {
    const timezone = checkTimezone(`${where}: option "schedule"`, s.timezone ?? DEFAULTS.timezone);
    return { type: "cron", expression: checkCron(`${where}: option "schedule"`, s.expression, timezone), timezone };
  }
  if (s.type === "period") {
    return { type: "period", seconds: int(where, "schedule (Period)", s.seconds, BOUNDS.periodSeconds.min, BOUNDS.periodSeconds.max) };
  }
  throw new OptionsError(`${where}: option "schedule" must be a Cron or a Period`);
}

function resolveScalingSchedule(where: string, raw: unknown, declared: AutoscalerSettings): Array<Required<ScalingScheduleEntry>> {
  if (!Array.isArray(raw)) throw new OptionsError(`${where}: option "scalingSchedule" must be an array of { cron, timezone, set }`);
  return raw.map((entryRaw, i) => {
    const at = `${where}: option "scalingSchedule[${i}]"`;
    const e = asObject(entryRaw, at);
    for (const key of Object.keys(e)) {
      if (key !== "cron" && key !== "timezone" && key !== "set") throw new OptionsError(`${at}: unknown field "${key}"`);
    }
    const timezone = checkTimezone(at, e.timezone ?? DEFAULTS.timezone);
    const cron = checkCron(at, e.cron, timezone);
    const atSet = `${where}: option "scalingSchedule[${i}].set"`;
    const set = checkAutoscalerUpdate(atSet, e.set);
    if (Object.keys(set).length === 0) throw new OptionsError(`${atSet}: names no setting to change`);
    applyAutoscalerUpdate(atSet, declared, set);
    return { cron, timezone, set };
  });
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new OptionsError(`${what} must be an object`);
  return v as Record<string, unknown>;
}

function int(where: string, option: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new OptionsError(`${where}: option "${option}" must be a whole number, got ${JSON.stringify(v)}`);
  }
  return range(where, option, v, min, max);
}

function num(where: string, option: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new OptionsError(`${where}: option "${option}" must be a number, got ${JSON.stringify(v)}`);
  return range(where, option, v, min, max);
}

function range(where: string, option: string, v: number, min: number, max: number): number {
  if (v < min || v > max) throw new OptionsError(`${where}: option "${option}" must be between ${min} and ${max}, got ${v}`);
  return v;
}

function suggest(key: string, known: Set<string>): string {
  const lower = key.toLowerCase();
  for (const k of known) if (k.toLowerCase() === lower || k.toLowerCase().startsWith(lower.slice(0, 5))) return ` (did you mean "${k}"?)`;
  return "";
}

// When schedules are due (`schedule`, `scalingSchedule`; docs/architecture.md
// "Schedules"). Pure: the time is a parameter, so the every-minute Cron
// Trigger handler, `squall schedule list` and the tests get the same answers.
//
// Exactly once per due time. The Cron Trigger may run late, twice for one
// minute, or not at all for a while. The handler asks `dueRun` for each
// schedule, claims the answer with a conditional update, and spawns only if
// the claim changed a row:
//   UPDATE schedules SET last_due_at = ?1
//     WHERE id = ?2 AND (last_due_at IS NULL OR last_due_at < ?1)
// A repeated or overlapping run of the handler then finds the due time
// already claimed, and a run after a gap sees only the latest missed due
// time, so a missed schedule fires once, not once per missed minute. Deriving
// the spawned call's id from (schedule id, dueAtMs) makes the spawn itself
// idempotent too (admission is idempotent by call id).
//
// Cron expressions are read in the schedule's IANA timezone. Wall-clock
// times that a DST change skips or repeats follow ISC/Vixie cron, whose man
// page says: "If time has moved forward, those jobs that would have run in
// the interval that has been skipped will be run immediately. Conversely, if
// time has moved backward, care is taken to avoid running jobs twice."
// - Spring forward: a time that does not exist that day (02:30 in New York on
//   2026-03-08) fires at the first minute after the jump (03:00 EDT), once
//   even if several skipped times match.
// - Fall back: a time that happens twice (01:30 in New York on 2026-11-01)
//   fires at its first occurrence only. This applies to every expression, so
//   `*/5 * * * *` in a DST zone pauses during the repeated hour (ISC cron
//   would run such hour-wildcard jobs through it); UTC, the default, has no
//   DST, and a Period is the tool for "every N minutes".
// croner's own timezone support maps a skipped 02:30 to 03:30, which lands
// after 03:10 and breaks the ordered search below. Inside the repeated hour,
// its nextRun also returns instants before the date it is given. So croner
// only matches patterns against a wall clock written as a UTC date (utcOffset
// 0, no DST), and this module maps wall-clock minutes to instants with Intl.
import { Cron } from "croner";
import type { ScheduleSpec } from "../../sdk/src/wire/options";

const MINUTE = 60_000;
const DAY = 86_400_000;
/** A clock moved back further than this is not a DST change (ISC cron's threshold). */
const FALL_BACK_WINDOW = 3 * 3_600_000;
/** How far `activeScalingEntry` looks back: a weekly entry, plus slack for DST and a platform outage. */
const SCALING_LOOKBACK = 8 * DAY;

/**
 * The most recent due time in [anchorMs, nowMs] (ms, minute-aligned), or null.
 * anchorMs is when the schedule was deployed: nothing is due before it.
 * Cron: the times the expression matches in its timezone (DST as above).
 * Period: anchor + k·seconds for k ≥ 1, rounded down to the minute, so the
 * first run is one period after the deploy (as Modal's Period does).
 */
export function latestDueAt(spec: ScheduleSpec, nowMs: number, anchorMs: number): number | null {
  if (spec.type === "period") {
    const k = periodIndexAfter(spec.seconds, anchorMs, nowMs) - 1;
    return k >= 1 ? periodDue(spec.seconds, anchorMs, k) : null;
  }
  return latestCronDue(spec.expression, spec.timezone, nowMs, anchorMs);
}

/**
 * What to fire now: the latest due time if it is later than the one last
 * fired, else null. The caller stores dueAtMs as last_due_at with the
 * conditional update described at the top of this file.
 */
export function dueRun(spec: ScheduleSpec, lastDueAtMs: number | null, nowMs: number, anchorMs: number): { dueAtMs: number } | null {
  const dueAtMs = latestDueAt(spec, nowMs, anchorMs);
  if (dueAtMs === null || (lastDueAtMs !== null && dueAtMs <= lastDueAtMs)) return null;
  return { dueAtMs };
}

/** The next `count` due times after fromMs (and not before anchorMs), for `squall schedule list`. */
export function nextRuns(spec: ScheduleSpec, fromMs: number, count: number, anchorMs: number): number[] {
  const runs: number[] = [];
  if (spec.type === "period") {
    for (let k = Math.max(1, periodIndexAfter(spec.seconds, anchorMs, fromMs)); runs.length < count; k++) {
      runs.push(periodDue(spec.seconds, anchorMs, k));
    }
    return runs;
  }
  const { expression, timezone } = spec;
  const pattern = wallPattern(expression);
  let wall: Date | null = new Date(Math.max(wallReached(timezone, fromMs), wallReached(timezone, anchorMs - 1)));
  while (runs.length < count && (wall = pattern.nextRun(wall)) !== null) {
    const due = firstInstant(timezone, wall.getTime());
    // Times skipped by a spring-forward all fall on the minute after the jump: list it once.
    if (due !== runs.at(-1)) runs.push(due);
  }
  return runs;
}

/**
 * The `scalingSchedule` entry whose time passed most recently (in its own
 * timezone), looking back 8 days, so a deploy at noon applies the 06:00
 * entry at once. On a tie the later entry wins, as if applied in order.
 * Like dueRun, the caller applies it only if dueAtMs is newer than the
 * stored last_due_at.
 */
export function activeScalingEntry(entries: ReadonlyArray<{ cron: string; timezone: string }>, nowMs: number): { index: number; dueAtMs: number } | null {
  let active: { index: number; dueAtMs: number } | null = null;
  for (const [index, entry] of entries.entries()) {
    const dueAtMs = latestCronDue(entry.cron, entry.timezone, nowMs, nowMs - SCALING_LOOKBACK);
    if (dueAtMs !== null && (active === null || dueAtMs >= active.dueAtMs)) active = { index, dueAtMs };
  }
  return active;
}

/** The smallest k whose due time is after t (may be ≤ 0). */
function periodIndexAfter(seconds: number, anchorMs: number, t: number): number {
  return Math.ceil((floorMinute(t) + MINUTE - anchorMs) / (seconds * 1000));
}

function periodDue(seconds: number, anchorMs: number, k: number): number {
  return floorMinute(anchorMs + k * seconds * 1000);
}

function latestCronDue(expression: string, timezone: string, nowMs: number, notBeforeMs: number): number | null {
  const wall = latestMatch(wallPattern(expression), wallReached(timezone, nowMs), wallReached(timezone, notBeforeMs - 1));
  return wall === null ? null : firstInstant(timezone, wall);
}

/** The expression read against wall-clock time written as UTC (see the top of this file). */
function wallPattern(expression: string): Cron {
  return new Cron(expression, { utcOffset: 0 });
}

/**
 * The latest wall-clock minute in (floor, top] that the pattern matches, or
 * null. croner 9 can only search forward (nextRun; no previous-run search),
 * so: step back by doubling spans until a span holds a match, then halve that
 * span down to the minute. That is about 2·log2(gap in minutes) nextRun calls,
 * about 40 for a yearly expression, where a minute-by-minute walk takes 500 000.
 */
function latestMatch(pattern: Cron, top: number, floor: number): number | null {
  const matchAfter = (t: number): boolean => {
    const next = pattern.nextRun(new Date(t));
    return next !== null && next.getTime() <= top;
  };
  // Invariant: a match lies in (lo, top], none in (hi, top].
  let hi = top;
  let lo: number;
  for (let span = MINUTE; ; span *= 2) {
    lo = Math.max(top - span, floor);
    if (matchAfter(lo)) break;
    if (lo === floor) return null;
    hi = lo;
  }
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
    if (matchAfter(mid)) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The latest wall-clock minute shown at or before t. After a fall-back the
 * clock shows earlier minutes again, so this is the minute just before the
 * jump until the clock passes it once more.
 * wallReached(t) ≥ w exactly when firstInstant(w) ≤ t, which is what turns a
 * question about instants into one about wall-clock minutes.
 */
function wallReached(timezone: string, t: number): number {
  const minute = floorMinute(t);
  const wall = wallClock(timezone, minute);
  const back = minute - FALL_BACK_WINDOW;
  const backOffset = offsetAt(timezone, back);
  if (backOffset <= wall - minute) return wall;
  return Math.max(wall, lastMinuteWithOffset(timezone, back, minute, backOffset) + backOffset);
}

/**
 * The first instant whose wall clock shows `wall` or later: the instant of
 * that wall time, its first occurrence if a fall-back repeats it, or the
 * minute after the jump if a spring-forward skips it.
 */
function firstInstant(timezone: string, wall: number): number {
  // The instant is within ±14 h of `wall`, and zones change offset at most
  // once in two days, so the offsets a day either side are the candidates.
  const [larger, smaller] = [offsetAt(timezone, wall - DAY), offsetAt(timezone, wall + DAY)].sort((a, b) => b - a);
  // The larger offset gives the earlier instant: try it first.
  for (const offset of [larger, smaller]) {
    if (offsetAt(timezone, wall - offset) === offset) return wall - offset;
  }
  return lastMinuteWithOffset(timezone, wall - larger, wall - smaller, smaller) + MINUTE;
}

/** Given offsetAt(lo) === offset !== offsetAt(hi) (one change between), the last minute before the change. */
function lastMinuteWithOffset(timezone: string, lo: number, hi: number, offset: number): number {
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
    if (offsetAt(timezone, mid) === offset) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** UTC offset (ms) in force at the minute-aligned instant t. */
function offsetAt(timezone: string, t: number): number {
  return wallClock(timezone, t) - t;
}

// Building a DateTimeFormat is costly; formatting with one is cheap. Keyed by
// timezone, so bounded by the number of IANA zones.
const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall clock in `timezone` at t, to the minute, written as a UTC timestamp. */
function wallClock(timezone: string, t: number): number {
  let format = formats.get(timezone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
    });
    formats.set(timezone, format);
  }
  const parts = format.formatToParts(t);
  const field = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(field("year"), field("month") - 1, field("day"), field("hour"), field("minute"));
}

function floorMinute(t: number): number {
  return Math.floor(t / MINUTE) * MINUTE;
}

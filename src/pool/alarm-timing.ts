// When the pool's one alarm should next fire: the earliest of everything it
// has to check. Pure: the pool gathers the times, this picks.
import { HEARTBEAT_INTERVAL_MS } from "../../sdk/src/wire/protocol";

/** How often the alarm checks heartbeats while containers exist. */
export const HEARTBEAT_CHECK_MS = 5 * HEARTBEAT_INTERVAL_MS;
/** Expired results are swept this often while calls exist. */
export const SWEEP_INTERVAL_MS = 10 * 60 * 1_000;
/** ...and this often while a backlog of expired calls remains (a large burst expiring at once). */
export const SWEEP_BACKLOG_INTERVAL_MS = 1_000;

export interface WakeReasons {
  /** When the autoscaler (or a start hold) wants another look. */
  scalingAtMs: number | null;
  /** The earliest running input's timeoutMs deadline. */
  inputDeadlineMs: number | null;
  /** When the earliest retry-delayed input becomes ready. */
  retryReadyAtMs: number | null;
  /** Whether containers exist (their heartbeats need checking). */
  containersLive: boolean;
  /** When the oldest starting container began, and how long it may take. */
  earliestStartMs: number | null;
  startupTimeoutMs: number;
  /** Whether calls exist (their expired results need sweeping). */
  callsExist: boolean;
  /** When the recent inputs' lines held in memory are due to be written. */
  historyDueAtMs: number | null;
}

export function nextWakeMs(now: number, r: WakeReasons): number | null {
  return earliest(
    r.scalingAtMs,
    r.inputDeadlineMs,
    r.retryReadyAtMs,
    r.containersLive ? now + HEARTBEAT_CHECK_MS : null,
    r.earliestStartMs === null ? null : r.earliestStartMs + r.startupTimeoutMs,
    r.callsExist ? now + SWEEP_INTERVAL_MS : null,
    r.historyDueAtMs,
  );
}

/**
 * The time to set the alarm to, or null to leave it: never "now" (an alarm
 * must be in the future to fire again), and never later than one already set
 * that is still to come.
 */
export function alarmToSet(currentMs: number | null, wantedMs: number, now: number): number | null {
  const at = Math.max(wantedMs, now + 1);
  if (currentMs !== null && currentMs <= at && currentMs > now) return null;
  return at;
}

export function earliest(...times: Array<number | null>): number | null {
  let best: number | null = null;
  for (const t of times) if (t !== null && (best === null || t < best)) best = t;
  return best;
}

// A pool's stats (what `squall stats` and the dashboard show) and the metrics
// series sampled from them.
import type { FunctionStats, OutputStatus } from "../../sdk/src/wire/api";
import { effectiveSettings, settingOrigins, type PoolConfig } from "./config";
import type { PoolRhythm } from "./idle-histogram";
import { adaptiveStats, autoKeepAlive } from "./keep-alive";
import type { StartGate } from "./start-gate";
import type { PoolStore } from "./store";
import type { ContainerRow, InputCounts, MetricPoint } from "./store-schema";

/** The metrics series gets a point at most this often while nothing changes. */
const METRIC_INTERVAL_MS = 2_000;
/**
 * Busy/idle and backlog changes closer than this to the last point wait for
 * the next one: a map changes them on every output, and a point per output
 * is a write per input. Containers starting, arriving or going always get one.
 */
const LOAD_CHANGE_SPACING_MS = 250;
/** An idle pool with nothing new to say still gets a point this often. */
const IDLE_METRIC_INTERVAL_MS = 60_000;

/** What one point of the metrics series says. */
export interface PoolLoad {
  containers: FunctionStats["containers"];
  backlog: number;
  running: number;
}

/** The pool's load from its containers and input counts (both read by the caller, who usually has them already). */
export function poolLoad(containers: readonly ContainerRow[], counts: InputCounts): PoolLoad {
  const byState = { starting: 0, idle: 0, busy: 0, total: 0 };
  for (const c of containers) {
    if (c.state === "stopping") continue;
    byState.total++;
    if (c.state === "starting") byState.starting++;
    else if (c.running > 0) byState.busy++;
    else byState.idle++;
  }
  return { containers: byState, backlog: counts.pendingCalls + counts.pendingSpawns + counts.awaitingDelivery, running: counts.running };
}

export function poolStats(store: PoolStore, config: PoolConfig, rhythm: PoolRhythm, startGate: StartGate, now: number): FunctionStats {
  const load = poolLoad(store.containers.all(), store.countInputs(now));
  return {
    backlog: load.backlog,
    runningInputs: load.running,
    containers: load.containers,
    autoscaler: effectiveSettings(config),
    autoscalerSources: settingOrigins(config),
    ...adaptiveStats(autoKeepAlive(effectiveSettings(config), rhythm, now), rhythm),
    startsHeldBack: startGate.heldBack(now),
  };
}

/** Counts finished inputs between points and writes a point when something changed (in memory: an eviction starts afresh). */
export class MetricsSampler {
  private completed = 0;
  private failed = 0;
  private lastPoint: MetricPoint | null = null;

  constructor(private readonly store: PoolStore) {}

  /** `count` inputs ended with `status`. */
  finished(status: OutputStatus, count = 1): void {
    this.completed += count;
    if (status !== "success") this.failed += count;
  }

  record(s: PoolLoad, now: number): void {
    const last = this.lastPoint;
    const containersChanged = !last || last.starting !== s.containers.starting || last.idle + last.busy !== s.containers.idle + s.containers.busy;
    const loadChanged = !!last && (last.idle !== s.containers.idle || last.busy !== s.containers.busy || last.backlog !== s.backlog);
    const changed = containersChanged || (loadChanged && now - last.ts >= LOAD_CHANGE_SPACING_MS);
    if (!changed && now - last.ts < METRIC_INTERVAL_MS) return;
    if (!changed && last.running === 0 && s.running === 0 && this.completed === 0 && now - last.ts < IDLE_METRIC_INTERVAL_MS) return;
    const point: MetricPoint = {
      ts: now,
      starting: s.containers.starting,
      idle: s.containers.idle,
      busy: s.containers.busy,
      backlog: s.backlog,
      running: s.running,
      completed: this.completed,
      failed: this.failed,
    };
    this.store.telemetry.recordMetric(point);
    this.lastPoint = point;
    this.completed = 0;
    this.failed = 0;
  }
}

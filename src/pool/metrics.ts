// A pool's stats (what `squall stats` and the dashboard show) and the metrics
// series sampled from them.
import type { FunctionStats, OutputStatus } from "../../sdk/src/wire/api";
import { effectiveSettings, settingOrigins, type PoolConfig } from "./config";
import type { PoolRhythm } from "./idle-histogram";
import { adaptiveStats, autoKeepAlive } from "./keep-alive";
import type { StartGate } from "./start-gate";
import type { PoolStore } from "./store";
import type { MetricPoint } from "./store-schema";

/** The metrics series gets a point at most this often (and whenever the container count changes). */
const METRIC_INTERVAL_MS = 2_000;
/** An idle pool with nothing new to say still gets a point this often. */
const IDLE_METRIC_INTERVAL_MS = 60_000;

export function poolStats(store: PoolStore, config: PoolConfig, rhythm: PoolRhythm, startGate: StartGate, now: number): FunctionStats {
  const counts = store.countInputs(now);
  const containers = { starting: 0, idle: 0, busy: 0, total: 0 };
  for (const c of store.containers()) {
    if (c.state === "stopping") continue;
    containers.total++;
    if (c.state === "starting") containers.starting++;
    else if (c.running > 0) containers.busy++;
    else containers.idle++;
  }
  return {
    backlog: counts.pendingCalls + counts.pendingSpawns + counts.awaitingDelivery,
    runningInputs: counts.running,
    containers,
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

  finished(status: OutputStatus): void {
    this.completed++;
    if (status !== "success") this.failed++;
  }

  record(s: FunctionStats, now: number): void {
    const last = this.lastPoint;
    const changed =
      !last || last.starting !== s.containers.starting || last.idle !== s.containers.idle || last.busy !== s.containers.busy || last.backlog !== s.backlog;
    if (!changed && now - last.ts < METRIC_INTERVAL_MS) return;
    if (last && !changed && last.running === 0 && s.runningInputs === 0 && this.completed === 0 && now - last.ts < IDLE_METRIC_INTERVAL_MS) return;
    const point: MetricPoint = {
      ts: now,
      starting: s.containers.starting,
      idle: s.containers.idle,
      busy: s.containers.busy,
      backlog: s.backlog,
      running: s.runningInputs,
      completed: this.completed,
      failed: this.failed,
    };
    this.store.recordMetric(point);
    this.lastPoint = point;
    this.completed = 0;
    this.failed = 0;
  }
}

// `scaledownWindowMs: "auto"`: the keep-alive and pre-warm decision of the
// hybrid-histogram policy ("Serverless in the Wild", USENIX ATC 2020), as a
// pure function of the pool's rhythm, the time and its start-up estimate. Its
// output is what planScaling takes: a scale-down window and a floor of warm
// containers, so minContainers, maxContainers and bufferContainers keep
// their meaning and always win.
import { DEFAULTS, type AutoscalerSettings } from "../../sdk/src/wire/options";
import type { AdaptiveScaling } from "../../sdk/src/wire/api";
import type { ScalingConfig } from "./autoscaler";
import { BIN_COUNT, binCountCv, lowerEdgeMs, percentileBin, RANGE_MS, upperEdgeMs, weight, type IdleHistogram, type PoolRhythm } from "./idle-histogram";

export const KEEP_ALIVE = {
  /** Fewer recorded idle intervals than this: not representative yet. */
  minSamples: 6,
  /** Below this coefficient of variation of the bin counts the intervals follow no pattern (the study's threshold). */
  minCv: 2,
  /**
   * The 99th percentile more than this many times the 5th: the intervals are
   * too spread to aim a pre-warm at. (With a few dozen samples the bin-count
   * CV is high for any spread; this test is not fooled by small samples.)
   */
  maxSpread: 1.5,
  /** More than this share of idle intervals beyond the histogram's range (about 4.5 h): not representative. */
  maxOutOfBoundsShare: 0.5,
  /** The pre-warm aims at this percentile of the idle interval (the head)... */
  headPercentile: 0.05,
  /** ...and warm containers stay until this one (the tail). */
  tailPercentile: 0.99,
  /**
   * Margins: pre-warm 2 % before the head, keep 5 % past the tail. The study
   * takes 10 % of 1-minute bins; these bins are at most 4.4 % wide and the
   * percentiles are read at their outer edges, which is margin already, and
   * every point of margin ahead of an hourly timer is 72 s of a warm container.
   */
  headMargin: 0.02,
  tailMargin: 0.05,
  /** While it has not learned: the seed's default fixed window. */
  fallbackWindowMs: DEFAULTS.scaledownWindowMs,
} as const;

export interface KeepAliveInput {
  rhythm: PoolRhythm;
  nowMs: number;
  /** How long a container takes to become ready: a pre-warm starts that much before the predicted input. */
  startupMs: number;
}

export interface KeepAliveDecision {
  /** The pool acts on what it learned; false: it uses the fixed window (the reason says why). */
  representative: boolean;
  /** Why, in words (for stats, the CLI and the dashboard). */
  reason: string;
  /** How long after the pool goes idle containers are kept warm (the learned tail, or the fixed window). */
  keepAliveMs: number;
  /** How long after the pool goes idle one container is started again; null: the fixed window, no pre-warm. */
  prewarmAfterMs: number | null;
  /** While the pool is idle: when the planned pre-warm starts (past if it has). */
  prewarmAtMs: number | null;
  /** For planScaling: how long an idle container may stay. */
  scaledownWindowMs: number;
  /** For planScaling: containers to hold ready now (a floor under minContainers' own). */
  warmContainers: number;
  /** When the decision changes next without a load change (the pool's alarm); null: only on load changes. */
  wakeAtMs: number | null;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const pct = (share: number): string => `${(share * 100).toFixed(1)} %`;

interface PlanShape {
  /** Stop idle containers as the pool goes idle, start one at prewarmAfterMs; else keep one from the start. */
  releaseAtIdle: boolean;
  prewarmAfterMs: number;
  /** When the warm container goes (after the pool went idle). */
  keepMs: number;
  startupMs: number;
}

interface Prediction {
  /** Share of idle intervals whose next input would find no ready container. */
  coldShare: number;
  /** Expected container time per idle interval (starting included). */
  containerMs: number;
}

/** Points per bin at which the plan is evaluated (each bin's weight spread evenly over its width). */
const POINTS_PER_BIN = 4;

/** What a plan would have cost on the recorded idle intervals (for the last warm container). */
export function predict(h: IdleHistogram, plan: PlanShape): Prediction {
  const total = weight(h);
  if (total <= 0) return { coldShare: 0, containerMs: 0 };
  let cold = 0;
  let containerMs = 0;
  const at = (idleMs: number, w: number): void => {
    const from = plan.releaseAtIdle ? plan.prewarmAfterMs : 0;
    if (idleMs < from) {
      cold += w;
      containerMs += w * plan.startupMs;
    } else if (idleMs > plan.keepMs) {
      cold += w;
      containerMs += w * (plan.keepMs - from + plan.startupMs);
    } else {
      if (plan.releaseAtIdle && idleMs < from + plan.startupMs) cold += w;
      containerMs += w * Math.max(idleMs - from, plan.releaseAtIdle ? plan.startupMs : 0);
    }
  };
  h.counts.forEach((c, bin) => {
    if (c === 0) return;
    const lo = lowerEdgeMs(bin);
    const hi = upperEdgeMs(bin);
    for (let k = 0; k < POINTS_PER_BIN; k++) at(lo + ((k + 0.5) * (hi - lo)) / POINTS_PER_BIN, c / POINTS_PER_BIN);
  });
  if (h.outOfBounds > 0) at(RANGE_MS, h.outOfBounds);
  return { coldShare: cold / total, containerMs: containerMs / total };
}

export function decideKeepAlive({ rhythm, nowMs, startupMs }: KeepAliveInput): KeepAliveDecision {
  const h = rhythm.histogram;
  const samples = weight(h);
  const fixed = (reason: string): KeepAliveDecision => ({
    representative: false,
    reason: `${reason}: fixed ${seconds(KEEP_ALIVE.fallbackWindowMs)} window`,
    keepAliveMs: KEEP_ALIVE.fallbackWindowMs,
    prewarmAfterMs: null,
    prewarmAtMs: null,
    scaledownWindowMs: KEEP_ALIVE.fallbackWindowMs,
    warmContainers: 0,
    wakeAtMs: null,
  });
  // Decay halves weights, so "samples" is a weight; it is whole until the first halving.
  if (samples < KEEP_ALIVE.minSamples) return fixed(`learning: ${Math.floor(samples)} of ${KEEP_ALIVE.minSamples} idle intervals seen`);
  // The study predicts very long idle times with ARIMA; here they simply get the fixed window.
  const outShare = h.outOfBounds / samples;
  if (outShare > KEEP_ALIVE.maxOutOfBoundsShare) {
    return fixed(`not representative: ${Math.round(outShare * 100)} % of idle intervals exceed ${seconds(RANGE_MS)}`);
  }
  const cv = binCountCv(h);
  if (cv < KEEP_ALIVE.minCv) return fixed(`not representative: idle intervals follow no pattern (CV ${cv.toFixed(2)} < ${KEEP_ALIVE.minCv})`);

  const edges = (headPercentile: number, tailPercentile: number) => ({
    headMs: lowerEdgeMs(percentileBin(h, headPercentile)!),
    tailMs: upperEdgeMs(Math.min(BIN_COUNT - 1, percentileBin(h, tailPercentile)!)),
  });
  const paper = edges(KEEP_ALIVE.headPercentile, KEEP_ALIVE.tailPercentile);
  if (paper.tailMs / Math.max(paper.headMs, 1) > KEEP_ALIVE.maxSpread) {
    return fixed(`not representative: idle intervals spread from ${seconds(paper.headMs)} to ${seconds(paper.tailMs)} (5th to 99th percentile)`);
  }

  // The learned plan is taken only when, on the recorded intervals, it starts
  // cold no more often and keeps containers no longer than the fixed window
  // would: "auto" is never worse than the default on either count. The
  // study's percentiles first; if the few intervals outside them would make
  // it start cold more often, the whole recorded range.
  const fixedPlan = predict(h, { releaseAtIdle: false, prewarmAfterMs: 0, keepMs: KEEP_ALIVE.fallbackWindowMs, startupMs });
  let rejected = "";
  let chosen: { keepAliveMs: number; prewarmAfterMs: number; why: string } | null = null;
  for (const [label, { headMs, tailMs }] of [
    ["5th and 99th percentiles", paper],
    ["shortest and longest", edges(0, 1)],
  ] as const) {
    const keepAliveMs = Math.round(tailMs * (1 + KEEP_ALIVE.tailMargin));
    const prewarmAfterMs = Math.round(headMs * (1 - KEEP_ALIVE.headMargin) - startupMs);
    const why = `learned from ${Math.round(samples)} idle intervals (${label} ${seconds(headMs)}, ${seconds(tailMs)})`;
    // Releasing pays a start-up to save the idle time before the pre-warm: only worth it when that is longer.
    if (prewarmAfterMs <= startupMs) {
      rejected ||= `${why}, but the next input comes too soon to release and pre-warm`;
      continue;
    }
    const plan = predict(h, { releaseAtIdle: true, prewarmAfterMs, keepMs: keepAliveMs, startupMs });
    const versus =
      `${pct(plan.coldShare)} cold, ${seconds(plan.containerMs)} of container per idle interval; ` +
      `fixed window ${pct(fixedPlan.coldShare)}, ${seconds(fixedPlan.containerMs)}`;
    if (plan.coldShare <= fixedPlan.coldShare && plan.containerMs <= fixedPlan.containerMs) {
      chosen = {
        keepAliveMs,
        prewarmAfterMs,
        why: `${why}: releases containers when idle, pre-warms one ${seconds(prewarmAfterMs)} later, keeps it until ${seconds(keepAliveMs)} (${versus})`,
      };
      break;
    }
    rejected ||= `${why}, but pre-warming would not beat the fixed window (${versus})`;
  }
  if (chosen === null) return fixed(rejected);

  const { keepAliveMs, prewarmAfterMs } = chosen;
  const reason = chosen.why;
  const learnedPlan = { representative: true, reason, keepAliveMs, prewarmAfterMs };
  // The histogram is of the whole pool's idle intervals: it says when the next
  // input comes after a quiet spell, not how many containers a busy pool will
  // want again. So while there is work, containers follow the fixed window.
  if (rhythm.busy || rhythm.idleSinceMs === null) {
    return { ...learnedPlan, prewarmAtMs: null, scaledownWindowMs: KEEP_ALIVE.fallbackWindowMs, warmContainers: 0, wakeAtMs: null };
  }
  const prewarmAtMs = rhythm.idleSinceMs + prewarmAfterMs;
  const releaseAtMs = rhythm.idleSinceMs + keepAliveMs;
  const idle = { ...learnedPlan, scaledownWindowMs: 0 };
  if (nowMs < prewarmAtMs) return { ...idle, prewarmAtMs, warmContainers: 0, wakeAtMs: prewarmAtMs };
  if (nowMs < releaseAtMs) return { ...idle, prewarmAtMs, warmContainers: 1, wakeAtMs: releaseAtMs };
  // Past the tail the next input is not expected soon: nothing stays warm (it will be a cold start).
  return { ...idle, prewarmAtMs: null, warmContainers: 0, wakeAtMs: null };
}

/** Until a container has been seen starting, a pre-warm begins this long before the predicted input. */
export const DEFAULT_STARTUP_MS = 5_000;

/** The start-up the pool plans a pre-warm with: half again its average start, so a slow start is still ready in time. */
export function plannedStartupMs(rhythm: PoolRhythm): number {
  return rhythm.startupMs === null ? DEFAULT_STARTUP_MS : Math.max(1_000, Math.round(rhythm.startupMs * 1.5));
}

/** The keep-alive decision for the settings in effect: null unless scaledownWindowMs is "auto". */
export function autoKeepAlive(settings: AutoscalerSettings, rhythm: PoolRhythm, nowMs: number): KeepAliveDecision | null {
  return settings.scaledownWindowMs === "auto" ? decideKeepAlive({ rhythm, nowMs, startupMs: plannedStartupMs(rhythm) }) : null;
}

/** The `adaptive` part of FunctionStats: present only for an "auto" pool. */
export function adaptiveStats(decision: KeepAliveDecision | null, rhythm: PoolRhythm): { adaptive?: AdaptiveScaling } {
  if (decision === null) return {};
  const { representative, reason, keepAliveMs, prewarmAfterMs, prewarmAtMs } = decision;
  return { adaptive: { representative, reason, keepAliveMs, prewarmAfterMs, prewarmAtMs, samples: Math.round(weight(rhythm.histogram) * 10) / 10 } };
}

/**
 * planScaling's config for the settings in effect: a fixed window as it is;
 * "auto" as decided, its warm containers a floor that minContainers can
 * raise and maxContainers caps (planScaling applies the cap).
 */
export function scalingConfig(settings: AutoscalerSettings, targetInputs: number, decision: KeepAliveDecision | null): ScalingConfig {
  if (settings.scaledownWindowMs !== "auto" || decision === null) {
    const windowMs = settings.scaledownWindowMs === "auto" ? KEEP_ALIVE.fallbackWindowMs : settings.scaledownWindowMs;
    return { ...settings, scaledownWindowMs: windowMs, targetInputs };
  }
  return {
    ...settings,
    minContainers: Math.max(settings.minContainers, decision.warmContainers),
    scaledownWindowMs: decision.scaledownWindowMs,
    targetInputs,
  };
}

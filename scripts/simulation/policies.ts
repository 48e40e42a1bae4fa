// The policies the simulator compares: Squall's own (the real planScaling,
// driven through an adapter), the baselines it should beat or at least match,
// and the clairvoyant lower bound they are all measured against.
import { planScaling, type ContainerView, type ScalingConfig } from "../../src/pool/autoscaler.js";
import { DEFAULTS, type AutoscalerSettings } from "../../sdk/src/wire/options.js";
import { emptyRhythm, observeLoad } from "../../src/pool/idle-histogram.js";
import { decideKeepAlive, scalingConfig } from "../../src/pool/keep-alive.js";
import { simulatePool, type ContainerState, type Decision, type Policy, type PoolModel, type PoolResult, type PoolSnapshot, type Strategy } from "./engine.js";
import type { PoolTrace } from "./traces.js";

function engineStrategy(name: string, createPolicy: (model: PoolModel) => Policy): Strategy {
  return { name, simulate: (trace, model) => simulatePool(trace, model, createPolicy(model)) };
}

function view(c: ContainerState): ContainerView {
  return {
    id: String(c.id),
    phase: !c.ready ? "starting" : c.running > 0 ? "busy" : "idle",
    idleSinceMs: c.idleSinceMs,
  };
}

/** Squall's policy exactly as the FunctionPool runs it: on every load change and at its requested wake-up. */
export function squall(name: string, overrides: Partial<AutoscalerSettings> & { scaledownWindowMs?: number } = {}): Strategy {
  return engineStrategy(name, (model) => {
    const config: ScalingConfig = {
      minContainers: DEFAULTS.minContainers,
      maxContainers: DEFAULTS.maxContainers,
      bufferContainers: DEFAULTS.bufferContainers,
      scaledownWindowMs: DEFAULTS.scaledownWindowMs,
      ...overrides,
      targetInputs: model.targetInputs,
    };
    return {
      decide(pool: PoolSnapshot): Decision {
        const plan = planScaling(config, { pending: pool.pending, running: pool.running }, pool.containers.map(view), pool.nowMs);
        return { start: plan.start, stop: plan.stop.map(Number), wakeAtMs: plan.wakeAtMs };
      },
    };
  });
}

/**
 * Squall with `scaledownWindowMs: "auto"`, as the FunctionPool runs it: the
 * pool's rhythm follows its load, and the keep-alive decision (with the
 * model's cold start as the start-up estimate) sets planScaling's window and
 * warm floor; the policy also wakes for the planned pre-warm.
 */
export function squallAuto(name: string): Strategy {
  return engineStrategy(name, (model) => {
    let rhythm = emptyRhythm();
    const settings: AutoscalerSettings = {
      minContainers: DEFAULTS.minContainers,
      maxContainers: DEFAULTS.maxContainers,
      bufferContainers: DEFAULTS.bufferContainers,
      scaledownWindowMs: "auto",
    };
    return {
      decide(pool: PoolSnapshot): Decision {
        rhythm = observeLoad(rhythm, pool.pending + pool.running > 0, pool.nowMs) ?? rhythm;
        const decision = decideKeepAlive({ rhythm, nowMs: pool.nowMs, startupMs: model.coldStartMs });
        const config = scalingConfig(settings, model.targetInputs, decision);
        const plan = planScaling(config, { pending: pool.pending, running: pool.running }, pool.containers.map(view), pool.nowMs);
        const wakes = [plan.wakeAtMs, decision.wakeAtMs].filter((t): t is number => t !== null);
        return { start: plan.start, stop: plan.stop.map(Number), wakeAtMs: wakes.length > 0 ? Math.min(...wakes) : null };
      },
    };
  });
}

/** Classic FaaS keep-alive: one new container per waiting input's worth of slots, each stopped keepMs after its last input. */
export function keepAlive(name: string, keepMs: number): Strategy {
  return engineStrategy(name, (model) => ({
    decide(pool: PoolSnapshot): Decision {
      let starting = 0;
      const stop: number[] = [];
      let wakeAtMs: number | null = null;
      for (const c of pool.containers) {
        if (!c.ready) starting++;
        else if (c.idleSinceMs !== null) {
          const expiresMs = c.idleSinceMs + keepMs;
          if (expiresMs <= pool.nowMs) stop.push(c.id);
          else wakeAtMs = wakeAtMs === null ? expiresMs : Math.min(wakeAtMs, expiresMs);
        }
      }
      return { start: Math.max(0, Math.ceil(pool.pending / model.targetInputs) - starting), stop, wakeAtMs };
    },
  }));
}

/**
 * Keep-alive per container: the last container of the pool stays lastMs
 * after its last input, any other one only extraMs. Not a policy Squall
 * offers: it shows what releasing the containers a burst left behind sooner
 * costs in cold starts.
 */
export function splitKeepAlive(name: string, lastMs: number, extraMs: number): Strategy {
  return engineStrategy(name, (model) => ({
    decide(pool: PoolSnapshot): Decision {
      const starting = pool.containers.filter((c) => !c.ready).length;
      const idle = pool.containers.filter((c) => c.idleSinceMs !== null).sort((a, b) => a.idleSinceMs! - b.idleSinceMs!);
      let live = pool.containers.length;
      const stop: number[] = [];
      let wakeAtMs: number | null = null;
      for (const c of idle) {
        const expiresMs = c.idleSinceMs! + (live === 1 ? lastMs : extraMs);
        if (expiresMs <= pool.nowMs) {
          stop.push(c.id);
          live--;
        } else {
          wakeAtMs = wakeAtMs === null ? expiresMs : Math.min(wakeAtMs, expiresMs);
        }
      }
      return { start: Math.max(0, Math.ceil(pool.pending / model.targetInputs) - starting), stop, wakeAtMs };
    },
  }));
}

export interface KpaSettings {
  stableWindowMs: number;
  panicWindowMs: number;
  targetUtilization: number;
  /** Panic when the panic window wants this many times the ready containers. */
  panicThreshold: number;
  /** How often the autoscaler re-evaluates (Knative's tick is 2 s). */
  tickMs: number;
}

export const KPA: KpaSettings = { stableWindowMs: 60_000, panicWindowMs: 6_000, targetUtilization: 0.7, panicThreshold: 2, tickMs: 2_000 };

const BUCKET_MS = 1_000;

/**
 * Knative's Pod Autoscaler, reduced to its core: it scales on the average
 * concurrency (running + queued) over a 60 s stable window, switches to a 6 s
 * panic window when that asks for twice the ready containers, never scales
 * down while panicking, and leaves panic one stable window after the last
 * trigger. At zero, the activator asks for one container at once.
 */
class KpaPolicy implements Policy {
  // Concurrency-milliseconds per 1 s bucket, in a ring covering the stable window.
  private readonly area: Float64Array;
  private readonly bucketOf: Float64Array;
  private lastMs: number | null = null;
  private lastConcurrency = 0;
  private nextTickMs = -Infinity;
  private panicUntilMs = -Infinity;
  private desired = 0;

  constructor(
    private readonly model: PoolModel,
    private readonly s: KpaSettings,
  ) {
    const buckets = Math.ceil(s.stableWindowMs / BUCKET_MS);
    this.area = new Float64Array(buckets);
    this.bucketOf = new Float64Array(buckets).fill(-1);
  }

  decide(pool: PoolSnapshot): Decision {
    this.record(pool.nowMs);
    const load = pool.pending + pool.running;
    this.lastConcurrency = load;

    if (pool.nowMs >= this.nextTickMs) {
      this.tick(pool);
      this.nextTickMs = (Math.floor(pool.nowMs / this.s.tickMs) + 1) * this.s.tickMs;
    }
    const want = Math.max(this.desired, load > 0 ? 1 : 0);
    const live = pool.containers.length;
    const stop = pool.containers
      .filter((c) => c.idleSinceMs !== null)
      .sort((a, b) => a.idleSinceMs! - b.idleSinceMs!)
      .slice(0, Math.max(0, live - want))
      .map((c) => c.id);
    const active = live > 0 || load > 0 || this.desired > 0;
    return { start: Math.max(0, want - live), stop, wakeAtMs: active ? this.nextTickMs : null };
  }

  private tick(pool: PoolSnapshot): void {
    const perContainer = this.model.targetInputs * this.s.targetUtilization;
    const stableWant = Math.ceil(this.average(pool.nowMs, this.s.stableWindowMs) / perContainer);
    const panicWant = Math.ceil(this.average(pool.nowMs, this.s.panicWindowMs) / perContainer);
    const ready = pool.containers.filter((c) => c.ready).length;
    if (panicWant >= this.s.panicThreshold * Math.max(1, ready)) this.panicUntilMs = pool.nowMs + this.s.stableWindowMs;
    this.desired = pool.nowMs < this.panicUntilMs ? Math.max(this.desired, panicWant) : stableWant;
  }

  /** Adds the concurrency held since the last call to the buckets it spans (only the last window's worth matters). */
  private record(nowMs: number): void {
    const from = this.lastMs ?? nowMs;
    this.lastMs = nowMs;
    if (this.lastConcurrency === 0) return;
    const first = Math.max(Math.floor(from / BUCKET_MS), Math.floor(nowMs / BUCKET_MS) - this.area.length + 1);
    for (let b = first; b * BUCKET_MS < nowMs; b++) {
      const overlap = Math.min(nowMs, (b + 1) * BUCKET_MS) - Math.max(from, b * BUCKET_MS);
      const slot = b % this.area.length;
      if (this.bucketOf[slot] !== b) {
        this.bucketOf[slot] = b;
        this.area[slot] = 0;
      }
      this.area[slot] += this.lastConcurrency * overlap;
    }
  }

  private average(nowMs: number, windowMs: number): number {
    const last = Math.floor(nowMs / BUCKET_MS);
    const buckets = windowMs / BUCKET_MS;
    let sum = 0;
    for (let slot = 0; slot < this.area.length; slot++) {
      if (this.bucketOf[slot]! > last - buckets) sum += this.area[slot]!;
    }
    return sum / windowMs;
  }
}

export function kpa(name: string, settings: KpaSettings = KPA): Strategy {
  return engineStrategy(name, (model) => new KpaPolicy(model, settings));
}

/**
 * The clairvoyant lower bound: every input starts the moment it arrives, on a
 * container started exactly one cold start earlier. Computed directly rather
 * than simulated. With perfect packing the pool needs m(t) = ceil(running /
 * targetInputs) ready containers; think of them as levels 1..m(t). Level j is
 * needed on a set of intervals, and between two of them it either stays up
 * (costing the gap, billed as idle) or stops and boots again (costing a cold
 * start), whichever is cheaper. Levels are independent, so this is the
 * minimum for zero waits. For targetInputs 1 it is achievable (containers are
 * interchangeable); for more it assumes inputs pack perfectly, so it is a bound.
 */
export function oracle(name: string): Strategy {
  return { name, simulate: oracleBound };
}

function oracleBound(trace: PoolTrace, model: PoolModel): PoolResult {
  const arrivals = trace.map((i) => i.arrivalMs);
  const ends = trace.map((i) => i.arrivalMs + i.serviceMs).sort((a, b) => a - b);
  const lastEndMs: number[] = [];
  let servingMs = 0;
  let idleMs = 0;
  let starts = 0;
  let running = 0;
  let levels = 0;
  let prevMs = 0;
  for (let a = 0, e = 0; a < arrivals.length || e < ends.length;) {
    const nowMs = Math.min(arrivals[a] ?? Infinity, ends[e] ?? Infinity);
    servingMs += levels * (nowMs - prevMs);
    prevMs = nowMs;
    for (; arrivals[a] === nowMs; a++) running++;
    for (; ends[e] === nowMs; e++) running--;
    const next = Math.ceil(running / model.targetInputs);
    for (let j = levels; j < next; j++) {
      const gapMs = lastEndMs[j] === undefined ? Infinity : nowMs - lastEndMs[j]!;
      if (gapMs <= model.coldStartMs) idleMs += gapMs;
      else starts++;
    }
    for (let j = next; j < levels; j++) lastEndMs[j] = nowMs;
    levels = next;
  }
  const bootMs = starts * model.coldStartMs;
  return {
    containerMs: servingMs + idleMs + bootMs,
    idleMs,
    bootMs,
    starts,
    outcomes: trace.map((i) => ({ waitMs: 0, cold: false, doneAtMs: i.arrivalMs + i.serviceMs })),
  };
}

export const ORACLE_NAME = "oracle (bound)";

/** What `npm run simulate` compares, in table order. */
export function standardStrategies(): Strategy[] {
  return [
    squall("squall (buffer 0)"),
    squall("squall (buffer 1)", { bufferContainers: 1 }),
    squallAuto("squall auto"),
    keepAlive("keep-alive 60 s", 60_000),
    keepAlive("keep-alive 10 min", 600_000),
    splitKeepAlive("keep-alive 60 s, extras 20 s", 60_000, 20_000),
    kpa("KPA-like"),
    oracle(ORACLE_NAME),
  ];
}

// Discrete-event simulation of one function's pool in simulated time: inputs
// arrive from a trace, wait in FIFO order for a free slot, and run for their
// service time; a policy decides which containers to start and stop. The pool
// mechanics mirror the FunctionPool DO, so only the policy differs between runs.
import type { PoolTrace, Trace } from "./traces.js";

export interface PoolModel {
  /** Inputs one container serves at once. */
  targetInputs: number;
  /** From the start request until the container takes inputs (billed, not idle). */
  coldStartMs: number;
}

/** What a policy sees of a container. */
export interface ContainerState {
  readonly id: number;
  readonly ready: boolean;
  readonly running: number;
  /** When it last had nothing to run (ms); null while starting or running. */
  readonly idleSinceMs: number | null;
}

export interface PoolSnapshot {
  readonly nowMs: number;
  /** Inputs waiting for a slot. */
  readonly pending: number;
  readonly running: number;
  /** In start order, oldest first. */
  readonly containers: readonly ContainerState[];
}

export interface Decision {
  start: number;
  /** Ids of idle containers to stop now. */
  stop: readonly number[];
  /** When to be asked again without a load change; null: only on the next event. */
  wakeAtMs: number | null;
}

/** A scaling policy; it may keep state, so each pool gets a fresh one. */
export interface Policy {
  decide(pool: PoolSnapshot): Decision;
}

export interface InputOutcome {
  /** From arrival until the input got a slot. */
  waitMs: number;
  /** It got its slot on a container that was not yet ready when it arrived. */
  cold: boolean;
  doneAtMs: number;
}

export interface PoolResult {
  containerMs: number;
  /** Container time with a ready container running nothing. */
  idleMs: number;
  /** Container time spent starting. */
  bootMs: number;
  starts: number;
  /** One per input of the trace, in trace order. */
  outcomes: InputOutcome[];
}

/** A way to scale one pool: a policy run through the engine, or a bound computed directly. */
export interface Strategy {
  readonly name: string;
  simulate(trace: PoolTrace, model: PoolModel): PoolResult;
}

interface Container {
  id: number;
  readyAtMs: number;
  ready: boolean;
  running: number;
  idleSinceMs: number | null;
}

type SimEvent =
  { atMs: number; seq: number; kind: "ready"; container: Container } | { atMs: number; seq: number; kind: "done"; container: Container; input: number };

/** Binary min-heap on (atMs, seq): simultaneous events keep their scheduling order. */
class EventQueue {
  private readonly heap: SimEvent[] = [];

  peekAtMs(): number {
    return this.heap.length > 0 ? this.heap[0]!.atMs : Infinity;
  }

  push(e: SimEvent): void {
    const h = this.heap;
    h.push(e);
    for (let i = h.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  pop(): SimEvent {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}

/**
 * Runs one pool to the end: until every input is done and the policy has
 * nothing left to wake for, so the tail a policy keeps after the last input
 * is billed to it. Throws if the pool would lose or repeat an input.
 */
export function simulatePool(trace: PoolTrace, model: PoolModel, policy: Policy): PoolResult {
  const events = new EventQueue();
  let seq = 0;
  const containers: Container[] = [];
  const queue: number[] = [];
  let queueHead = 0;
  let running = 0;
  let nextArrival = 0;
  let wakeAtMs: number | null = null;
  let nextId = 0;
  const outcomes: InputOutcome[] = trace.map(() => ({ waitMs: NaN, cold: false, doneAtMs: NaN }));
  let completed = 0;
  const result = { containerMs: 0, idleMs: 0, bootMs: 0, starts: 0 };

  // Like FunctionPool.pump (with maxInputs = targetInputs): busiest ready
  // containers first, oldest first among equals, each filled up to its slots,
  // so spare containers go idle and can be stopped.
  const dispatch = (nowMs: number): void => {
    if (queueHead === queue.length) return;
    const ready = containers.filter((c) => c.ready && c.running < model.targetInputs).sort((a, b) => b.running - a.running);
    for (const c of ready) {
      while (c.running < model.targetInputs && queueHead < queue.length) {
        const input = queue[queueHead++]!;
        const { arrivalMs, serviceMs } = trace[input]!;
        outcomes[input]!.waitMs = nowMs - arrivalMs;
        outcomes[input]!.cold = c.readyAtMs > arrivalMs;
        c.running++;
        c.idleSinceMs = null;
        running++;
        events.push({ atMs: nowMs + serviceMs, seq: seq++, kind: "done", container: c, input });
      }
    }
  };

  const apply = (d: Decision, nowMs: number): void => {
    for (const id of d.stop) {
      const i = containers.findIndex((c) => c.id === id);
      const c = containers[i];
      if (!c || !c.ready || c.running > 0) throw new Error(`policy stopped container ${id}, which is not idle`);
      containers.splice(i, 1);
    }
    for (let i = 0; i < d.start; i++) {
      const c: Container = { id: nextId++, readyAtMs: nowMs + model.coldStartMs, ready: false, running: 0, idleSinceMs: null };
      containers.push(c);
      result.starts++;
      events.push({ atMs: c.readyAtMs, seq: seq++, kind: "ready", container: c });
    }
    // As the DO re-arms its alarm: a wake-up is always strictly in the future.
    wakeAtMs = d.wakeAtMs === null ? null : Math.max(d.wakeAtMs, nowMs + 1);
  };

  let lastMs = trace.length > 0 ? trace[0]!.arrivalMs : 0;
  for (;;) {
    const nowMs = Math.min(events.peekAtMs(), nextArrival < trace.length ? trace[nextArrival]!.arrivalMs : Infinity, wakeAtMs ?? Infinity);
    if (nowMs === Infinity) break;

    // Bill the interval that just ended at the pool's state during it.
    const dt = nowMs - lastMs;
    for (const c of containers) {
      if (!c.ready) result.bootMs += dt;
      else if (c.running === 0) result.idleMs += dt;
    }
    result.containerMs += containers.length * dt;
    lastMs = nowMs;

    if (wakeAtMs === nowMs) wakeAtMs = null;
    while (events.peekAtMs() === nowMs) {
      const e = events.pop();
      const c = e.container;
      if (e.kind === "ready") {
        c.ready = true;
        c.idleSinceMs = nowMs;
        continue;
      }
      const outcome = outcomes[e.input]!;
      if (!Number.isNaN(outcome.doneAtMs)) throw new Error(`input ${e.input} completed twice`);
      outcome.doneAtMs = nowMs;
      completed++;
      running--;
      if (--c.running === 0) c.idleSinceMs = nowMs;
    }
    while (nextArrival < trace.length && trace[nextArrival]!.arrivalMs === nowMs) queue.push(nextArrival++);

    dispatch(nowMs);
    apply(policy.decide({ nowMs, pending: queue.length - queueHead, running, containers }), nowMs);
  }

  if (completed !== trace.length) throw new Error(`${trace.length - completed} of ${trace.length} inputs never completed`);
  return { ...result, outcomes };
}

export interface Metrics {
  inputs: number;
  containerSeconds: number;
  /** Idle container-seconds / container-seconds. */
  idleFraction: number;
  /** Inputs that waited for a starting container / inputs. */
  coldStartFraction: number;
  p50WaitMs: number;
  p99WaitMs: number;
  starts: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

/** Sums pools (a multi-function trace) into one set of metrics. */
export function summarize(results: readonly PoolResult[]): Metrics {
  let containerMs = 0;
  let idleMs = 0;
  let starts = 0;
  const waits: number[] = [];
  let cold = 0;
  for (const r of results) {
    containerMs += r.containerMs;
    idleMs += r.idleMs;
    starts += r.starts;
    for (const o of r.outcomes) {
      waits.push(o.waitMs);
      if (o.cold) cold++;
    }
  }
  const sorted = Float64Array.from(waits).sort();
  return {
    inputs: waits.length,
    containerSeconds: containerMs / 1000,
    idleFraction: containerMs > 0 ? idleMs / containerMs : 0,
    coldStartFraction: waits.length > 0 ? cold / waits.length : 0,
    p50WaitMs: percentile(sorted, 0.5),
    p99WaitMs: percentile(sorted, 0.99),
    starts,
  };
}

/** Every pool of the trace under the strategy, summed. */
export function runStrategy(trace: Trace, strategy: Strategy, model: PoolModel): Metrics {
  return summarize(trace.pools.map((pool) => strategy.simulate(pool, model)));
}

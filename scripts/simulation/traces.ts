// Synthetic workloads for the autoscaler simulator. Every trace comes from a
// seeded PRNG, so a run is reproducible bit for bit and tests can pin results.
// Times are whole milliseconds: the engine then never compares floats that
// differ only by rounding (a container ready "at" an arrival is ready for it).

export interface TraceInput {
  readonly arrivalMs: number;
  /** How long the input runs once it has a slot. */
  readonly serviceMs: number;
}

/** One function's inputs, sorted by arrival: one pool in the simulation. */
export type PoolTrace = readonly TraceInput[];

export interface Trace {
  readonly name: string;
  readonly description: string;
  /** One entry per function; each function scales its own pool. */
  readonly pools: readonly PoolTrace[];
}

/** mulberry32: tiny, fast, and good enough for workload synthesis (not for crypto). */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in (0, 1]: safe to take the log of. */
  private positive(): number {
    return 1 - this.next();
  }

  exponential(mean: number): number {
    return -Math.log(this.positive()) * mean;
  }

  /** Pareto with the given minimum and shape: the heavy tail of on-periods. */
  pareto(minimum: number, alpha: number): number {
    return minimum / Math.pow(this.positive(), 1 / alpha);
  }

  /** Log-normal by its median (Box-Muller for the normal). */
  logNormal(median: number, sigma: number): number {
    const normal = Math.sqrt(-2 * Math.log(this.positive())) * Math.cos(2 * Math.PI * this.next());
    return median * Math.exp(sigma * normal);
  }
}

// Service times spread about a median; sigma 0.5 puts 95 % of them within
// about 0.4x to 2.7x the median, like a typical remote function.
const SERVICE_SIGMA = 0.5;

function serviceTime(rng: Rng, medianMs: number): number {
  return Math.max(1, Math.round(rng.logNormal(medianMs, SERVICE_SIGMA)));
}

/**
 * A non-homogeneous Poisson process over [fromMs, toMs) by thinning: draw at
 * the peak rate and keep each arrival with probability rate(t) / peak.
 */
function poissonArrivals(
  rng: Rng,
  fromMs: number,
  toMs: number,
  peakPerS: number,
  ratePerS: (ms: number) => number,
  medianServiceMs: number,
  out: TraceInput[],
): void {
  const meanGapMs = 1000 / peakPerS;
  for (let t = fromMs + rng.exponential(meanGapMs); t < toMs; t += rng.exponential(meanGapMs)) {
    if (rng.next() * peakPerS < ratePerS(t)) out.push({ arrivalMs: Math.floor(t), serviceMs: serviceTime(rng, medianServiceMs) });
  }
}

export interface DailyCycleOptions {
  hours: number;
  hourMs: number;
  peakPerS: number;
  troughPerS: number;
  medianServiceMs: number;
}

export const DAILY_CYCLE: DailyCycleOptions = { hours: 24, hourMs: 60_000, peakPerS: 20, troughPerS: 0.2, medianServiceMs: 1_000 };

/** A day compressed to minutes: the rate follows a cosine from the trough at midnight to the peak at noon. */
export function dailyCycle(seed: number, o: DailyCycleOptions = DAILY_CYCLE): Trace {
  const rng = new Rng(seed);
  const dayMs = o.hours * o.hourMs;
  const rate = (ms: number): number => o.troughPerS + ((o.peakPerS - o.troughPerS) * (1 - Math.cos((2 * Math.PI * ms) / dayMs))) / 2;
  const inputs: TraceInput[] = [];
  poissonArrivals(rng, 0, dayMs, o.peakPerS, rate, o.medianServiceMs, inputs);
  return {
    name: "daily",
    description: `${o.hours} "hours" of ${o.hourMs / 1000} s; rate ${o.troughPerS} to ${o.peakPerS} inputs/s (cosine); service median ${o.medianServiceMs} ms`,
    pools: [inputs],
  };
}

export interface BurstyOptions {
  durationMs: number;
  onRatePerS: number;
  /** Pareto on-periods: minimum and shape (shape 1.5: finite mean, infinite variance). */
  onMinMs: number;
  onAlpha: number;
  offMeanMs: number;
  medianServiceMs: number;
}

export const BURSTY: BurstyOptions = { durationMs: 3_600_000, onRatePerS: 5, onMinMs: 5_000, onAlpha: 1.5, offMeanMs: 120_000, medianServiceMs: 1_000 };

/** On/off bursts: exponential silences between heavy-tailed bursts of Poisson arrivals. */
export function bursty(seed: number, o: BurstyOptions = BURSTY): Trace {
  const rng = new Rng(seed);
  const inputs: TraceInput[] = [];
  let t = rng.exponential(o.offMeanMs);
  while (t < o.durationMs) {
    const onEnd = Math.min(o.durationMs, t + rng.pareto(o.onMinMs, o.onAlpha));
    poissonArrivals(rng, t, onEnd, o.onRatePerS, () => o.onRatePerS, o.medianServiceMs, inputs);
    t = onEnd + rng.exponential(o.offMeanMs);
  }
  return {
    name: "bursty",
    description: `${o.durationMs / 60_000} min of bursts at ${o.onRatePerS} inputs/s; on-periods Pareto(min ${o.onMinMs / 1000} s, shape ${o.onAlpha}), silences exponential (mean ${o.offMeanMs / 1000} s); service median ${o.medianServiceMs} ms`,
    pools: [inputs],
  };
}

export interface PopulationOptions {
  functions: number;
  durationMs: number;
  maxRatePerS: number;
  minRatePerS: number;
  /** Each function's median service time is drawn log-uniformly from this range. */
  serviceMedianRangeMs: readonly [number, number];
}

export const POPULATION: PopulationOptions = { functions: 50, durationMs: 3_600_000, maxRatePerS: 10, minRatePerS: 0.001, serviceMedianRangeMs: [100, 5_000] };

/**
 * Many functions, few of them busy: rank r gets rate max * r^-s (Zipf), with
 * s chosen so the last rank gets minRatePerS. Each is a Poisson process.
 */
export function population(seed: number, o: PopulationOptions = POPULATION): Trace {
  const rng = new Rng(seed);
  const exponent = Math.log(o.maxRatePerS / o.minRatePerS) / Math.log(o.functions);
  const [lo, hi] = o.serviceMedianRangeMs;
  const pools: TraceInput[][] = [];
  for (let rank = 1; rank <= o.functions; rank++) {
    const ratePerS = o.maxRatePerS * Math.pow(rank, -exponent);
    const medianServiceMs = lo * Math.pow(hi / lo, rng.next());
    const inputs: TraceInput[] = [];
    poissonArrivals(rng, 0, o.durationMs, ratePerS, () => ratePerS, medianServiceMs, inputs);
    pools.push(inputs);
  }
  return {
    name: "population",
    description: `${o.functions} functions over ${o.durationMs / 60_000} min, Zipf rates ${o.maxRatePerS} to ${o.minRatePerS} inputs/s, service medians ${lo} to ${hi} ms`,
    pools,
  };
}

export interface TimersOptions {
  functions: number;
  durationMs: number;
  /** Each function's period is drawn from these (the common cron steps). */
  periodsMs: readonly number[];
  /** A timer fires up to this late (scheduler delay), uniformly. */
  jitterMs: number;
  serviceMedianRangeMs: readonly [number, number];
}

export const TIMERS: TimersOptions = {
  functions: 20,
  durationMs: 12 * 3_600_000,
  periodsMs: [60_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000],
  jitterMs: 1_000,
  serviceMedianRangeMs: [100, 5_000],
};

function logUniform(rng: Rng, lo: number, hi: number): number {
  return lo * Math.pow(hi / lo, rng.next());
}

function timerArrivals(rng: Rng, periodMs: number, o: { durationMs: number; jitterMs: number }, medianServiceMs: number, out: TraceInput[]): void {
  const phaseMs = rng.next() * periodMs;
  for (let t = phaseMs; t < o.durationMs; t += periodMs) {
    out.push({ arrivalMs: Math.floor(t + rng.next() * o.jitterMs), serviceMs: serviceTime(rng, medianServiceMs) });
  }
}

/**
 * Timer-driven functions, as in the study's timer triggers: each fires every
 * period (1 min to 1 h) a little late, so its idle intervals are all alike.
 */
export function timers(seed: number, o: TimersOptions = TIMERS): Trace {
  const rng = new Rng(seed);
  const [lo, hi] = o.serviceMedianRangeMs;
  const pools: TraceInput[][] = [];
  for (let f = 0; f < o.functions; f++) {
    const periodMs = o.periodsMs[Math.floor(rng.next() * o.periodsMs.length)]!;
    const inputs: TraceInput[] = [];
    timerArrivals(rng, periodMs, o, logUniform(rng, lo, hi), inputs);
    pools.push(inputs);
  }
  return {
    name: "timers",
    description: `${o.functions} timer-driven functions over ${o.durationMs / 3_600_000} h, each every ${o.periodsMs.map((p) => p / 60_000).join(", ")} min (drawn), up to ${o.jitterMs / 1000} s late; service medians ${lo} to ${hi} ms`,
    pools,
  };
}

export interface WildOptions {
  functions: number;
  durationMs: number;
  /** Shares of timer-driven and Poisson functions; the rest have heavy-tailed idle times. */
  timerShare: number;
  poissonShare: number;
  /** Poisson functions' mean gap between inputs, log-uniform over this range. */
  poissonMeanGapRangeMs: readonly [number, number];
  /** Heavy-tailed functions: log-normal gaps, median log-uniform over this range, with this sigma. */
  heavyMedianGapRangeMs: readonly [number, number];
  heavySigma: number;
  serviceMedianRangeMs: readonly [number, number];
}

export const WILD: WildOptions = {
  functions: 60,
  durationMs: 12 * 3_600_000,
  timerShare: 0.25,
  poissonShare: 0.4,
  poissonMeanGapRangeMs: [1_000, 6 * 3_600_000],
  heavyMedianGapRangeMs: [10_000, 3_600_000],
  heavySigma: 1,
  serviceMedianRangeMs: [100, 5_000],
};

/**
 * A population shaped like the study's published distributions: invocation
 * rates spanning about five orders of magnitude (from one a second to a few
 * a day, most functions at most once a minute), a quarter timer-driven
 * (periodic idle times), the others Poisson or with heavy-tailed (log-normal)
 * idle times; service times log-normal.
 */
export function wild(seed: number, o: WildOptions = WILD): Trace {
  const rng = new Rng(seed);
  const [lo, hi] = o.serviceMedianRangeMs;
  const pools: TraceInput[][] = [];
  for (let f = 0; f < o.functions; f++) {
    const kind = rng.next();
    const medianServiceMs = logUniform(rng, lo, hi);
    const inputs: TraceInput[] = [];
    if (kind < o.timerShare) {
      timerArrivals(
        rng,
        TIMERS.periodsMs[Math.floor(rng.next() * TIMERS.periodsMs.length)]!,
        { durationMs: o.durationMs, jitterMs: TIMERS.jitterMs },
        medianServiceMs,
        inputs,
      );
    } else if (kind < o.timerShare + o.poissonShare) {
      const ratePerS = 1000 / logUniform(rng, ...o.poissonMeanGapRangeMs);
      poissonArrivals(rng, 0, o.durationMs, ratePerS, () => ratePerS, medianServiceMs, inputs);
    } else {
      const medianGapMs = logUniform(rng, ...o.heavyMedianGapRangeMs);
      for (let t = rng.logNormal(medianGapMs, o.heavySigma); t < o.durationMs; t += rng.logNormal(medianGapMs, o.heavySigma)) {
        inputs.push({ arrivalMs: Math.floor(t), serviceMs: serviceTime(rng, medianServiceMs) });
      }
    }
    pools.push(inputs);
  }
  return {
    name: "wild",
    description: `${o.functions} functions over ${o.durationMs / 3_600_000} h shaped like "Serverless in the Wild": ${o.timerShare * 100} % timer-driven (as in timers), ${o.poissonShare * 100} % Poisson with mean gaps ${o.poissonMeanGapRangeMs[0] / 1000} s to ${o.poissonMeanGapRangeMs[1] / 3_600_000} h, the rest log-normal gaps (median ${o.heavyMedianGapRangeMs[0] / 1000} s to ${o.heavyMedianGapRangeMs[1] / 3_600_000} h, sigma ${o.heavySigma}); service medians ${lo} to ${hi} ms`,
    pools,
  };
}

/** The workloads `npm run simulate` compares policies on. */
export function standardTraces(seed: number): Trace[] {
  return [dailyCycle(seed), bursty(seed), population(seed), timers(seed), wild(seed)];
}

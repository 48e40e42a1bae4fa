// A function's rhythm: a compact histogram of the pool's idle intervals (from
// the moment nothing is pending or running until the next input arrives), as
// in the hybrid-histogram policy of "Serverless in the Wild" (Shahrad et al.,
// USENIX ATC 2020). Pure and serializable: the FunctionPool keeps it in its
// SQLite meta, so it survives eviction and restarts.

/**
 * Bins grow geometrically: bin i covers [FIRST_EDGE_MS * 2^((i-1)/4),
 * FIRST_EDGE_MS * 2^(i/16)), bin 0 everything below FIRST_EDGE_MS. Sixteenth
 * doublings keep every bin within 4.4 % of its value from 1 s to about 4.5 h
 * in 225 counts, where the study's 1-minute bins need 240 for 4 h and cannot
 * tell 10 s from 50 s.
 */
export const FIRST_EDGE_MS = 1_000;
export const BINS_PER_DOUBLING = 16;
export const BIN_COUNT = 225;
/** Idle intervals at or above this are out of bounds (about 4.5 h). */
export const RANGE_MS = FIRST_EDGE_MS * 2 ** ((BIN_COUNT - 1) / BINS_PER_DOUBLING);
/**
 * When the recorded weight reaches this, every count is halved: memory stays
 * bounded, counts stay small, and a function whose rhythm changes is
 * relearned within a few dozen intervals.
 */
export const DECAY_AT_WEIGHT = 256;

export interface IdleHistogram {
  /** Weight per bin (fractional after decay). */
  counts: number[];
  /** Weight of idle intervals of RANGE_MS or more. */
  outOfBounds: number;
}

export function emptyHistogram(): IdleHistogram {
  return { counts: new Array<number>(BIN_COUNT).fill(0), outOfBounds: 0 };
}

export function binOf(idleMs: number): number {
  if (idleMs < FIRST_EDGE_MS) return 0;
  return Math.floor(Math.log2(idleMs / FIRST_EDGE_MS) * BINS_PER_DOUBLING) + 1;
}

/** The smallest idle interval that falls in bin i. */
export function lowerEdgeMs(bin: number): number {
  return bin === 0 ? 0 : FIRST_EDGE_MS * 2 ** ((bin - 1) / BINS_PER_DOUBLING);
}

/** The idle interval where bin i ends. */
export function upperEdgeMs(bin: number): number {
  return FIRST_EDGE_MS * 2 ** (bin / BINS_PER_DOUBLING);
}

/** The histogram with one more idle interval (a new object; the argument is not changed). */
export function recordIdle(h: IdleHistogram, idleMs: number): IdleHistogram {
  const counts = h.counts.slice();
  let outOfBounds = h.outOfBounds;
  const bin = binOf(Math.max(0, idleMs));
  if (bin >= BIN_COUNT) outOfBounds++;
  else counts[bin]!++;
  if (weight({ counts, outOfBounds }) >= DECAY_AT_WEIGHT) {
    for (let i = 0; i < counts.length; i++) counts[i]! /= 2;
    outOfBounds /= 2;
  }
  return { counts, outOfBounds };
}

/** Recorded intervals, in bounds and out (decayed: recent ones weigh more). */
export function weight(h: IdleHistogram): number {
  return h.counts.reduce((a, b) => a + b, 0) + h.outOfBounds;
}

/**
 * The bin holding the p-th fraction of the in-bounds weight (0 < p ≤ 1), or
 * null if nothing is in bounds.
 */
export function percentileBin(h: IdleHistogram, p: number): number | null {
  const inBounds = weight(h) - h.outOfBounds;
  if (inBounds <= 0) return null;
  const target = p * inBounds;
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    seen += h.counts[i]!;
    // A small tolerance: after halving, sums carry float error.
    if (seen >= target - 1e-9 && h.counts[i]! > 0) return i;
  }
  return h.counts.length - 1;
}

/**
 * Coefficient of variation of the bin counts: high when the intervals sit in
 * a few bins (a rhythm), low when they spread over many (no pattern). The
 * study uses it to decide whether a histogram is representative.
 */
export function binCountCv(h: IdleHistogram): number {
  const n = h.counts.length;
  const mean = h.counts.reduce((a, b) => a + b, 0) / n;
  if (mean === 0) return 0;
  const variance = h.counts.reduce((a, c) => a + (c - mean) ** 2, 0) / n;
  return Math.sqrt(variance) / mean;
}

/** What the pool persists: the histogram and when the pool last went idle. */
export interface PoolRhythm {
  histogram: IdleHistogram;
  /** When the pool last had nothing pending or running; null while it has work (or has never had any). */
  idleSinceMs: number | null;
  /** Whether it has work now. */
  busy: boolean;
  /** How long its containers take to become ready (a moving average); null until one has. */
  startupMs: number | null;
}

export function emptyRhythm(): PoolRhythm {
  return { histogram: emptyHistogram(), idleSinceMs: null, busy: false, startupMs: null };
}

/** The rhythm after a container took startupMs to become ready: recent starts weigh most. */
export function observeStartup(r: PoolRhythm, startupMs: number): PoolRhythm {
  const ms = Math.max(0, startupMs);
  return { ...r, startupMs: r.startupMs === null ? ms : Math.round(0.7 * r.startupMs + 0.3 * ms) };
}

/**
 * The rhythm after the pool's load was seen: work arriving at an idle pool
 * records the idle interval; the pool running out of work starts the next
 * one. Null when nothing changed (so the pool writes only on transitions).
 */
export function observeLoad(r: PoolRhythm, busy: boolean, nowMs: number): PoolRhythm | null {
  if (busy === r.busy) return null;
  if (busy) {
    const histogram = r.idleSinceMs === null ? r.histogram : recordIdle(r.histogram, nowMs - r.idleSinceMs);
    return { ...r, histogram, idleSinceMs: null, busy: true };
  }
  return { ...r, idleSinceMs: nowMs, busy: false };
}

/**
 * Reads a persisted rhythm back. Anything that is not a well-formed one
 * (another version's shape, a damaged row) starts the learning afresh rather
 * than steering the pool with garbage.
 */
export function parseRhythm(raw: unknown): PoolRhythm {
  if (raw === null || typeof raw !== "object") return emptyRhythm();
  const r = raw as Record<string, unknown>;
  const h = r.histogram as Record<string, unknown> | null | undefined;
  const nonNegative = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;
  if (
    typeof r.busy !== "boolean" ||
    !(r.idleSinceMs === null || nonNegative(r.idleSinceMs)) ||
    h === null ||
    typeof h !== "object" ||
    !Array.isArray(h.counts) ||
    h.counts.length !== BIN_COUNT ||
    !h.counts.every(nonNegative) ||
    !nonNegative(h.outOfBounds) ||
    !(r.startupMs === null || nonNegative(r.startupMs))
  ) {
    return emptyRhythm();
  }
  return {
    histogram: { counts: h.counts.slice() as number[], outOfBounds: h.outOfBounds },
    idleSinceMs: r.idleSinceMs as number | null,
    busy: r.busy,
    startupMs: r.startupMs as number | null,
  };
}

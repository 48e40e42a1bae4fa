// How many inputs a container is sent beyond its slots (pure, no I/O). An
// input that waits at its container starts the moment a slot frees, instead
// of after the output has reached the pool and the next input has come back:
// with one-slot containers and short inputs that round trip is most of the
// time. The cost is that a queued input cannot move to a container that
// frees up sooner, so a container holds only about PREFETCH_QUEUE_MS of work.

/** Queued work a container may hold, in the pool's estimate of run time: what a map's tail may wait behind. */
export const PREFETCH_QUEUE_MS = 50;
/**
 * At most this many queued inputs, or PREFETCH_PER_SLOT per slot if more. With one-slot
 * containers and inputs far shorter than a round trip, each frame carries about half of it
 * (see dispatch.ts): 4 gave 3,100 no-op inputs/s on four containers, 8 gave 5,100, 16 gave
 * 9,200 and 32 gave 12,900 (npm run bench, workload 2b, 2026-12-01).
 */
export const PREFETCH_MIN_CAP = 32;
/**
 * Queued inputs per slot at most. A container of many slots is topped up by half its queue
 * at a time, so this sets its frames' size too: against one per slot, four ran a no-op map
 * on one 100-slot container ~30 % faster, with a quarter less of the pool's CPU per input,
 * and eight no faster (side by side, 2026-12-02). PREFETCH_QUEUE_MS still bounds the work held.
 */
export const PREFETCH_PER_SLOT = 4;

/** The most inputs a container of `maxInputs` slots is sent beyond them, however short its inputs. */
export function maxQueuedInputs(maxInputs: number): number {
  return Math.max(PREFETCH_MIN_CAP, PREFETCH_PER_SLOT * maxInputs);
}

/** Outputs seen before the estimate is trusted: a pool sends nothing ahead until it knows its inputs are short. */
export const PACE_MIN_SAMPLES = 8;
/** Weight of the newest run time in the running average (about the last 20 inputs count). */
const PACE_WEIGHT = 0.1;

/** A running estimate of how long this pool's inputs take, from the time each was sent or started to its output. */
export class InputPace {
  private averageRunMs = 0;
  private samples = 0;

  observe(runMs: number): void {
    if (!Number.isFinite(runMs) || runMs < 0) return;
    this.averageRunMs = this.samples === 0 ? runMs : this.averageRunMs + PACE_WEIGHT * (runMs - this.averageRunMs);
    this.samples++;
  }

  /** Inputs each container may hold beyond its `maxInputs` slots. */
  queuedInputs(maxInputs: number): number {
    if (this.samples < PACE_MIN_SAMPLES) return 0;
    const cap = maxQueuedInputs(maxInputs);
    // A container works through its queue maxInputs at a time.
    const fits = Math.floor((PREFETCH_QUEUE_MS * maxInputs) / Math.max(this.averageRunMs, 1));
    return Math.min(cap, fits);
  }
}

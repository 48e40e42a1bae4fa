// The pool's rhythm (idle-histogram.ts) as it is kept: in memory, and in the
// pool's meta so it outlives evictions. A remote call at a time flips busy
// and idle on every call, and storing each flip was a write (and a commit)
// per call: flips are stored at most once a STORE_INTERVAL_MS, so an
// eviction forgets at most that much of them.
import { observeLoad, observeStartup, type PoolRhythm } from "./idle-histogram";

const STORE_INTERVAL_MS = 1_000;

export class StoredRhythm {
  private storedMs = Number.NEGATIVE_INFINITY;
  private changed = false;

  constructor(
    private rhythm: PoolRhythm,
    private readonly store: (rhythm: PoolRhythm) => void,
  ) {}

  get value(): PoolRhythm {
    return this.rhythm;
  }

  /** A container's startup time, stored at once (containers start rarely). */
  observeStartup(startupMs: number, now: number): void {
    this.rhythm = observeStartup(this.rhythm, startupMs);
    this.save(now);
  }

  /** Whether the pool has work now; a change is stored if the last store is old enough (or at a later call). */
  observeLoad(busy: boolean, now: number): void {
    const seen = observeLoad(this.rhythm, busy, now);
    if (seen) {
      this.rhythm = seen;
      this.changed = true;
    }
    if (this.changed && now - this.storedMs >= STORE_INTERVAL_MS) this.save(now);
  }

  private save(now: number): void {
    this.store(this.rhythm);
    this.storedMs = now;
    this.changed = false;
  }
}

// Reads' touches of calls (what a call's expiry counts from), kept in
// memory and written at most every TOUCH_WRITE_INTERVAL_MS.
import { inLists } from "./id-ranges";

/**
 * How long a read's touch of a call may stay in memory before it is written.
 * A written touch is a commit that holds the read's answer (workerd's output
 * gate, ~0.3 ms on a local disk), so reads touch in memory and one of them
 * writes what has gathered at most this often; a pool that dies forgets at
 * most this much of its calls' reading, which moves their expiry (an hour
 * at the least, RESULT_TTL_MS and ABANDONED_MAP_TTL_MS) this much sooner.
 */
export const TOUCH_WRITE_INTERVAL_MS = 5_000;

export class CallTouches {
  /** Touches not written yet (call id → when), and when they were last written. */
  private readonly pending = new Map<string, number>();
  private writtenAtMs = 0;

  constructor(private readonly sql: SqlStorage) {}

  /** A read of these calls at `now`; written now if the interval has passed. */
  touch(ids: readonly string[], now: number): void {
    for (const id of ids) this.pending.set(id, now);
    if (now - this.writtenAtMs >= TOUCH_WRITE_INTERVAL_MS) this.write(now);
  }

  /** Writes what has gathered (before anything reads `touched_at`); never moves a touch back. */
  write(now: number): void {
    this.writtenAtMs = now;
    if (this.pending.size === 0) return;
    const byTime = new Map<number, string[]>();
    for (const [id, at] of this.pending) {
      const ids = byTime.get(at);
      if (ids) ids.push(id);
      else byTime.set(at, [id]);
    }
    this.pending.clear();
    for (const [at, ids] of byTime) {
      for (const { chunk, marks } of inLists(ids, 1)) this.sql.exec(`UPDATE calls SET touched_at = MAX(touched_at, ?) WHERE id IN (${marks})`, at, ...chunk);
    }
  }

  /** A deleted call's touch, not to be written. */
  forget(id: string): void {
    this.pending.delete(id);
  }
}

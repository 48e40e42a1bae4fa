// The pool's recent inputs (the dashboard's "recent calls"): the newest
// HISTORY_ROWS lines, held in memory as inputs finish and written together
// at most every HISTORY_WRITE_INTERVAL_MS, a write per row (as JSON: V8's own
// encoder, several times faster than CBOR here). A busy map finishes a
// frame of 100 inputs a few hundred times a second; a row per frame was ~12 %
// of the pool's work per input, for lines of which only the newest 200 are
// kept. A pool that dies forgets at most the last interval's lines: they
// are what the dashboard shows, not what any call returns.
import type { OutputStatus } from "../../sdk/src/wire/api";
import { base64urlToBytes, bytesToBase64url } from "../../sdk/src/wire/base64url";
import type { HistoryRow } from "./store-schema";

/** Finished inputs kept for "recent calls". */
export const HISTORY_ROWS = 200;
/** Lines wait in memory at most this long after the first of them (the pool's alarm writes them when no more come). */
export const HISTORY_WRITE_INTERVAL_MS = 1_000;

/** A line as stored; the error (CBOR bytes) in base64url. */
type PackedLine = [
  callId: string,
  idx: number,
  status: OutputStatus,
  containerId: string | null,
  startedAt: number | null,
  finishedAt: number,
  error: string | null,
];

export class HistoryStore {
  /** Lines stored: past twice HISTORY_ROWS the oldest rows go, so a trim is rare and the table stays small. */
  private lines: number;
  /** Lines not written yet, oldest first (at most HISTORY_ROWS), and since when the oldest has waited. */
  private unwritten: PackedLine[] = [];
  private unwrittenSinceMs: number | null = null;

  constructor(private readonly sql: SqlStorage) {
    this.lines = sql.exec<{ n: number }>("SELECT COALESCE(SUM(lines), 0) AS n FROM history_batches").one().n;
  }

  /** Lines of inputs that finished together at `now` (only the newest HISTORY_ROWS are kept). */
  record(lines: readonly HistoryRow[], now: number): void {
    if (!lines.length) return;
    for (const l of lines.slice(-HISTORY_ROWS)) {
      this.unwritten.push([l.callId, l.idx, l.status, l.containerId, l.startedAt, l.finishedAt, l.error && bytesToBase64url(l.error)]);
    }
    if (this.unwritten.length > HISTORY_ROWS) this.unwritten = this.unwritten.slice(-HISTORY_ROWS);
    this.unwrittenSinceMs ??= now;
    if (now - this.unwrittenSinceMs >= HISTORY_WRITE_INTERVAL_MS) this.write();
  }

  /** When the lines held in memory are due to be written; null when there are none. */
  writeDueAtMs(): number | null {
    return this.unwrittenSinceMs === null ? null : this.unwrittenSinceMs + HISTORY_WRITE_INTERVAL_MS;
  }

  /** Writes the lines held in memory as one row. */
  write(): void {
    this.unwrittenSinceMs = null;
    if (!this.unwritten.length) return;
    this.sql.exec("INSERT INTO history_batches (lines, packed) VALUES (?, ?)", this.unwritten.length, JSON.stringify(this.unwritten));
    this.lines += this.unwritten.length;
    this.unwritten = [];
    if (this.lines > 2 * HISTORY_ROWS) this.trim();
  }

  /** The newest lines first: those held in memory, then the written ones. */
  recent(limit: number): HistoryRow[] {
    const out: HistoryRow[] = [];
    const take = (lines: readonly PackedLine[]): void => {
      for (let i = lines.length - 1; i >= 0 && out.length < limit; i--) {
        const [callId, idx, status, containerId, startedAt, finishedAt, error] = lines[i];
        out.push({ callId, idx, status, containerId, startedAt, finishedAt, error: error === null ? null : base64urlToBytes(error) });
      }
    };
    take(this.unwritten);
    if (out.length >= limit) return out;
    for (const [packed] of this.sql.exec("SELECT packed FROM history_batches ORDER BY seq DESC").raw<[string]>()) {
      take(JSON.parse(packed) as PackedLine[]);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Drops the rows older than the newest HISTORY_ROWS lines (a row holds at most HISTORY_ROWS, so fewer than twice that stay). */
  private trim(): void {
    let kept = 0;
    for (const [seq, n] of [...this.sql.exec("SELECT seq, lines FROM history_batches ORDER BY seq DESC").raw<[number, number]>()]) {
      kept += n;
      if (kept >= HISTORY_ROWS) {
        this.sql.exec("DELETE FROM history_batches WHERE seq < ?", seq);
        break;
      }
    }
    this.lines = kept;
  }
}

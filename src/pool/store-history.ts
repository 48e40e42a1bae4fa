// The pool's recent inputs (the dashboard's "recent calls"): the newest
// HISTORY_ROWS lines, stored a frame per row (the lines of the inputs that
// finished together, as JSON: V8's own encoder, several times faster than
// CBOR here), so a frame of 100 outputs adds one row, not 100 that are
// deleted again moments later.
import type { OutputStatus } from "../../sdk/src/wire/api";
import { base64urlToBytes, bytesToBase64url } from "../../sdk/src/wire/base64url";
import type { HistoryRow } from "./store-schema";

/** Finished inputs kept for "recent calls". */
export const HISTORY_ROWS = 200;

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

  constructor(private readonly sql: SqlStorage) {
    this.lines = sql.exec<{ n: number }>("SELECT COALESCE(SUM(lines), 0) AS n FROM history_batches").one().n;
  }

  /** Lines of inputs that finished together (only the newest HISTORY_ROWS of them are kept). */
  record(lines: readonly HistoryRow[]): void {
    const kept = lines.slice(-HISTORY_ROWS);
    if (!kept.length) return;
    const packed: PackedLine[] = kept.map((l) => [l.callId, l.idx, l.status, l.containerId, l.startedAt, l.finishedAt, l.error && bytesToBase64url(l.error)]);
    this.sql.exec("INSERT INTO history_batches (lines, packed) VALUES (?, ?)", kept.length, JSON.stringify(packed));
    this.lines += kept.length;
    if (this.lines > 2 * HISTORY_ROWS) this.trim();
  }

  /** The newest lines first. */
  recent(limit: number): HistoryRow[] {
    const out: HistoryRow[] = [];
    for (const [packed] of this.sql.exec("SELECT packed FROM history_batches ORDER BY seq DESC").raw<[string]>()) {
      const lines = JSON.parse(packed) as PackedLine[];
      for (let i = lines.length - 1; i >= 0 && out.length < limit; i--) {
        const [callId, idx, status, containerId, startedAt, finishedAt, error] = lines[i];
        out.push({ callId, idx, status, containerId, startedAt, finishedAt, error: error === null ? null : base64urlToBytes(error) });
      }
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

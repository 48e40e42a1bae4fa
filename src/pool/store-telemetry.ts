// The pool's telemetry in its SQLite storage: the metrics series behind the
// dashboard's charts and the log tail behind `squall logs`. Both bounded.
import type { MetricPoint } from "./store-schema";

/** Log lines kept per pool (a bounded tail). */
export const LOG_TAIL_LINES = 2_000;
/** The metrics series covers the last hour. */
export const METRICS_WINDOW_MS = 60 * 60 * 1_000;

export class TelemetryStore {
  constructor(private readonly sql: SqlStorage) {}

  recordMetric(p: MetricPoint): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO metrics (ts, starting, idle, busy, backlog, running, completed, failed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      p.ts,
      p.starting,
      p.idle,
      p.busy,
      p.backlog,
      p.running,
      p.completed,
      p.failed,
    );
    this.sql.exec("DELETE FROM metrics WHERE ts < ?", p.ts - METRICS_WINDOW_MS);
  }
  metrics(sinceMs: number): MetricPoint[] {
    return this.sql
      .exec<Record<string, number>>("SELECT ts, starting, idle, busy, backlog, running, completed, failed FROM metrics WHERE ts >= ? ORDER BY ts", sinceMs)
      .toArray()
      .map((r) => ({
        ts: r.ts,
        starting: r.starting,
        idle: r.idle,
        busy: r.busy,
        backlog: r.backlog,
        running: r.running,
        completed: r.completed,
        failed: r.failed,
      }));
  }

  appendLogs(lines: ReadonlyArray<{ ts: number; containerId: string; callId: string | null; stream: string; text: string }>): void {
    for (const l of lines) {
      this.sql.exec("INSERT INTO logs (ts, container_id, call_id, stream, text) VALUES (?, ?, ?, ?, ?)", l.ts, l.containerId, l.callId, l.stream, l.text);
    }
    this.sql.exec("DELETE FROM logs WHERE seq <= (SELECT MAX(seq) FROM logs) - ?", LOG_TAIL_LINES);
  }
  readLogs(afterSeq: number, limit: number): Array<{ seq: number; ts: number; containerId: string; callId: string | null; stream: string; text: string }> {
    return this.sql
      .exec<Record<string, SqlStorageValue>>(
        "SELECT seq, ts, container_id, call_id, stream, text FROM logs WHERE seq > ? ORDER BY seq LIMIT ?",
        afterSeq,
        limit,
      )
      .toArray()
      .map((r) => ({
        seq: r.seq as number,
        ts: r.ts as number,
        containerId: r.container_id as string,
        callId: (r.call_id as string | null) ?? null,
        stream: r.stream as string,
        text: r.text as string,
      }));
  }
}

// The values generator inputs yield (README "Streaming generators"), kept in
// order per call until the caller has read them, in their own tables. The
// caller reads from an index (`from`): everything below it is taken as read
// and dropped, and the runner is granted credit up to STREAM_WINDOW values
// past it, so what the pool holds per stream stays bounded by the window.
import { STREAM_WINDOW, type RunnerStreamItem, type StreamGrant } from "../../sdk/src/wire/protocol";
import type { OutputItem } from "../../sdk/src/wire/api";
import type { PoolStore } from "./store";

/** Bytes of values one read returns (at least one value, however large). */
const MAX_STREAM_BYTES_PER_READ = 4 * 1024 * 1024;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS streams (call_id TEXT PRIMARY KEY, stored INTEGER NOT NULL DEFAULT 0, consumed INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS stream_items (call_id TEXT NOT NULL, seq INTEGER NOT NULL, value BLOB NOT NULL, PRIMARY KEY (call_id, seq));
`;

interface StreamRow {
  stored: number;
  consumed: number;
}

/** Where the values of one input go: stored, its readers woken, its runner granted credit. */
export interface StreamDeps {
  readonly store: PoolStore;
  /** Sends grants to the container running those inputs. */
  grant(containerId: string, grants: StreamGrant[]): void;
  /** Wakes the readers of a call. */
  notify(callId: string): void;
  /** Parks a reader until the call gets news (a value, its end) or `ms` pass. */
  waitFor(callId: string, ms: number): Promise<void>;
  /** The call's final output, once it is done. */
  end(callId: string): OutputItem | null;
  now(): number;
}

/** A read of a generator call's values; `output` (its end: a return or the error it threw) once every value is read. */
export interface StreamRead {
  values: Uint8Array[];
  next: number;
  output: OutputItem | null;
}

export class CallStreams {
  constructor(
    private readonly sql: SqlStorage,
    private readonly deps: StreamDeps,
  ) {
    sql.exec(SCHEMA);
  }

  /**
   * Values a runner sent. Only the next value of an input running on that
   * container is taken, within its window: a value sent again, or one a
   * re-run yields at a position already delivered, is dropped.
   */
  received(containerId: string, items: readonly RunnerStreamItem[]): void {
    const running = this.deps.store.getRunning([...new Set(items.map((i) => i.id))], containerId);
    const touched = new Map<number, string>();
    for (const item of items) {
      const input = running.get(item.id);
      if (!input) continue; // cancelled, timed out, or re-run elsewhere
      touched.set(item.id, input.callId);
      const row = this.row(input.callId);
      if (item.seq !== row.stored || item.seq >= row.consumed + STREAM_WINDOW) continue;
      this.sql.exec("INSERT INTO stream_items (call_id, seq, value) VALUES (?, ?, ?)", input.callId, item.seq, blob(item.value));
      this.sql.exec("INSERT INTO streams (call_id, stored) VALUES (?, 1) ON CONFLICT(call_id) DO UPDATE SET stored = stored + 1", input.callId);
    }
    if (touched.size === 0) return;
    this.deps.grant(
      containerId,
      [...touched].map(([id, callId]) => grantOf(id, this.row(callId))),
    );
    for (const callId of new Set(touched.values())) this.deps.notify(callId);
  }

  /** The values from `from` on, waiting up to waitMs for one; once every value is read, the call's end. */
  async read(callId: string, from: number, waitMs: number): Promise<StreamRead> {
    const deadline = this.deps.now() + waitMs;
    for (;;) {
      const values = this.take(callId, from);
      const output = values.length === 0 ? this.deps.end(callId) : null;
      const remaining = deadline - this.deps.now();
      if (values.length > 0 || output || remaining <= 0) {
        return { values, next: from + values.length, output: output && { idx: output.idx, status: output.status, value: output.value } };
      }
      await this.deps.waitFor(callId, remaining);
    }
  }

  /**
   * The caller has read every value below `from`: they are dropped, and the
   * input running for the call may run further ahead. Returns the values from
   * `from` on that are here now.
   */
  private take(callId: string, from: number): Uint8Array[] {
    const row = this.row(callId);
    if (from > row.consumed && from <= row.stored) {
      this.sql.exec("UPDATE streams SET consumed = ? WHERE call_id = ?", from, callId);
      this.sql.exec("DELETE FROM stream_items WHERE call_id = ? AND seq < ?", callId, from);
      const input = this.deps.store.inputsOf(callId).find((i) => i.state === "running");
      if (input?.containerId) this.deps.grant(input.containerId, [grantOf(input.id, { ...row, consumed: from })]);
    }
    const values: Uint8Array[] = [];
    let bytes = 0;
    for (const r of this.sql.exec<{ value: ArrayBuffer }>("SELECT value FROM stream_items WHERE call_id = ? AND seq >= ? ORDER BY seq", callId, from)) {
      if (values.length > 0 && bytes + r.value.byteLength > MAX_STREAM_BYTES_PER_READ) break;
      values.push(new Uint8Array(r.value));
      bytes += r.value.byteLength;
    }
    return values;
  }

  /** Whether the call has yielded values (a generator input that did is not retried: its caller has seen them). */
  yielded(callId: string): boolean {
    return this.row(callId).stored > 0;
  }

  /** A reconnected container is told where each of its generator inputs stands, so none waits for a grant lost with the old connection. */
  regrant(containerId: string): void {
    const grants: StreamGrant[] = [];
    for (const input of this.deps.store.runningOn(containerId)) {
      const row = this.row(input.callId);
      if (row.stored > 0) grants.push(grantOf(input.id, row));
    }
    if (grants.length > 0) this.deps.grant(containerId, grants);
  }

  delete(callId: string): void {
    this.sql.exec("DELETE FROM stream_items WHERE call_id = ?", callId);
    this.sql.exec("DELETE FROM streams WHERE call_id = ?", callId);
  }

  private row(callId: string): StreamRow {
    return (
      this.sql.exec<{ stored: number; consumed: number }>("SELECT stored, consumed FROM streams WHERE call_id = ?", callId).toArray()[0] ?? {
        stored: 0,
        consumed: 0,
      }
    );
  }
}

function grantOf(id: number, row: StreamRow): StreamGrant {
  return { id, stored: row.stored, until: row.consumed + STREAM_WINDOW };
}

/** An exact copy as an ArrayBuffer (encoders hand out views of shared pools). */
function blob(b: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return copy.buffer;
}

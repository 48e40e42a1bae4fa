// The `calls` table's statements (PoolStore, store.ts, keeps the counts and
// decides when each runs).
//
// A warm `.remote()` is one row: its call's. Its one input, while it runs,
// is kept there (the input_* columns), and its output, when small, too
// (output_*, with the UPDATE that counts it done; OutputStore reads it
// there). The call's row is written once when its input is claimed and once
// when it finishes; the inputs and output_batches tables, their indexes and
// their sequence are no longer written and erased for every call: four
// statements and five pages less per call. Measured side by side, the
// pool's CPU per call is 18 % lower and the round trip 14-18 % shorter.
//
// Only a first run is kept on the row: a remote input put back (a retry, a
// lost container) moves to a row of the inputs table, as a map's input moves
// out of its batch, and one not claimed in the turn its call started is
// written there as pending in the first place (PoolStore.writeFresh).
import { inLists } from "./id-ranges";
import type { StoredOutput } from "./output-batch";
import { blob, type CallKind, type CallRow } from "./store-schema";

/**
 * A remote call's output up to this size is kept on its call's row; a
 * larger one in output_batches. SQLite rewrites a whole row on each UPDATE
 * (a read's touch of the call), and a scan of calls should stay cheap.
 */
export const MAX_CALL_ROW_OUTPUT_BYTES = 2048;

/** A remote call as it is started. */
export interface NewRemoteCall {
  id: string;
  closed: boolean;
  createdAt: number;
  requestId: string | null;
}

/** A remote call's input, running on a container, as its call's row keeps it. */
export interface CallRowInput {
  inputId: number;
  args: Uint8Array;
  method: string | null;
  containerId: string;
  deadline: number | null;
}

/** The assignments that take an input off its call's row (finishing calls' UPDATE carries them: a map call has none there). */
const CLEAR_INPUT = "input_id = NULL, input_args = NULL, input_method = NULL, input_container = NULL, input_deadline = NULL";

export class CallTable {
  constructor(private readonly sql: SqlStorage) {}

  /** A map call's row; false if its request id started another call already (nothing written). */
  insertMap(id: string, closed: boolean, total: number, now: number, requestId: string | null): boolean {
    // The row claims the request id: a request sent again finds the call its first send started.
    const started = this.sql.exec(
      `INSERT INTO calls (id, kind, closed, total, created_at, touched_at, request_id) VALUES (?, 'map', ?, ?, ?, ?, ?)
         ON CONFLICT (request_id) WHERE request_id IS NOT NULL DO NOTHING`,
      id,
      closed ? 1 : 0,
      total,
      now,
      now,
      requestId,
    );
    return started.rowsWritten > 0 || requestId === null;
  }

  /** A remote call's row; with `running`, its input runs on that container. */
  insertRemote(call: NewRemoteCall, running: CallRowInput | null): void {
    this.sql.exec(
      `INSERT INTO calls (id, kind, closed, total, created_at, touched_at, request_id, input_id, input_args, input_method, input_container, input_deadline)
         VALUES (?, 'remote', ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)`,
      call.id,
      call.closed ? 1 : 0,
      call.createdAt,
      call.createdAt,
      call.requestId,
      running?.inputId ?? null,
      running ? blob(running.args) : null,
      running?.method ?? null,
      running?.containerId ?? null,
      running?.deadline ?? null,
    );
  }

  /** Spawned calls' rows, closed and waiting for their input from the spawn queue: many rows per statement. */
  insertSpawns(ids: readonly string[], now: number): void {
    for (const { chunk } of inLists(ids, 1)) {
      this.sql.exec(
        `INSERT INTO calls (id, kind, closed, total, created_at, touched_at) VALUES ${chunk.map((_, k) => `(?${k + 2}, 'spawn', 1, 0, ?1, ?1)`).join(",")}`,
        now,
        ...chunk,
      );
    }
  }

  get(id: string): CallRow | null {
    const [row] = this.sql
      .exec("SELECT kind, closed, total, done, cancelled, created_at, touched_at FROM calls WHERE id = ?", id)
      .raw<[CallKind, number, number, number, number, number, number]>();
    if (!row) return null;
    const [kind, closed, total, done, cancelled, createdAt, touchedAt] = row;
    return { id, kind, closed, total, done, cancelled, createdAt, touchedAt };
  }

  /** The call a client's request id started, while that call is kept. */
  ofRequest(requestId: string): string | null {
    return this.sql.exec<{ id: string }>("SELECT id FROM calls WHERE request_id = ?", requestId).toArray()[0]?.id ?? null;
  }

  existing(ids: readonly string[]): Set<string> {
    const found = new Set<string>();
    for (const { chunk, marks } of inLists(ids))
      for (const r of this.sql.exec<{ id: string }>(`SELECT id FROM calls WHERE id IN (${marks})`, ...chunk)) found.add(r.id);
    return found;
  }

  /** Counts `n` more inputs done in each of these calls (and takes a remote's input off its row). */
  addDone(callIds: readonly string[], n: number, now: number): void {
    for (const { chunk, marks } of inLists(callIds, 2)) {
      this.sql.exec(`UPDATE calls SET done = done + ?, touched_at = ?, ${CLEAR_INPUT} WHERE id IN (${marks})`, n, now, ...chunk);
    }
  }

  /** A remote call's one input is done, with this output (at most MAX_CALL_ROW_OUTPUT_BYTES), and off its row. */
  finishRemote(callId: string, output: StoredOutput, now: number): void {
    this.sql.exec(
      `UPDATE calls SET done = done + 1, touched_at = ?, ${CLEAR_INPUT}, output_status = ?, output_value = ? WHERE id = ?`,
      now,
      output.status,
      blob(output.value),
      callId,
    );
  }

  /** A spawned call that never got its input gets its one output now: false if it had one already. */
  completeUndelivered(callId: string, now: number): boolean {
    return this.sql.exec("UPDATE calls SET total = 1, done = 1, touched_at = ? WHERE id = ? AND total = 0", now, callId).rowsWritten > 0;
  }

  /** Up to `limit` calls whose outputs were all delivered before `resultsBefore`, or maps abandoned before `mapsBefore` (only old calls are looked at, by index). */
  expired(resultsBefore: number, mapsBefore: number, limit: number): string[] {
    return this.sql
      .exec<{ id: string }>(
        `SELECT id FROM calls WHERE touched_at < ?1
           AND ((closed = 1 AND done >= total AND touched_at < ?2) OR (kind = 'map' AND touched_at < ?3)) LIMIT ?4`,
        Math.max(resultsBefore, mapsBefore),
        resultsBefore,
        mapsBefore,
        limit,
      )
      .toArray()
      .map((r) => r.id);
  }

  count(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM calls").one().n;
  }

  countUndelivered(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM calls WHERE kind = 'spawn' AND total = 0 AND cancelled = 0").one().n;
  }

  /** Spawned calls admitted but not delivered from the queue yet. */
  undeliveredSpawns(): string[] {
    return this.sql
      .exec<{ id: string }>("SELECT id FROM calls WHERE kind = 'spawn' AND total = 0 AND cancelled = 0")
      .toArray()
      .map((r) => r.id);
  }

  close(id: string): void {
    this.sql.exec("UPDATE calls SET closed = 1 WHERE id = ?", id);
  }

  markCancelled(id: string): void {
    this.sql.exec("UPDATE calls SET cancelled = 1, closed = 1 WHERE id = ?", id);
  }

  /** Deletes a call's row: false if there was none. */
  delete(id: string): boolean {
    return this.sql.exec("DELETE FROM calls WHERE id = ?", id).rowsWritten > 0;
  }

  /**
   * The inputs running on call rows. Read by a scan of calls, once per pool
   * start (as the count of undelivered spawned calls is): an index would be
   * one more page in every call's commit.
   */
  runningInputs(): Array<[callId: string, inputId: number, containerId: string, deadline: number | null]> {
    return [
      ...this.sql
        .exec("SELECT id, input_id, input_container, input_deadline FROM calls WHERE input_container IS NOT NULL")
        .raw<[string, number, string, number | null]>(),
    ];
  }

  /** Takes a call row's input off it (to be put back as a row of the inputs table): its arguments and method. */
  takeInput(callId: string): { args: Uint8Array; method: string | null } | null {
    const [row] = this.sql
      .exec("SELECT input_args, input_method FROM calls WHERE id = ? AND input_container IS NOT NULL", callId)
      .raw<[ArrayBuffer, string | null]>();
    if (!row) return null;
    this.sql.exec(`UPDATE calls SET ${CLEAR_INPUT} WHERE id = ?`, callId);
    return { args: new Uint8Array(row[0]), method: row[1] };
  }
}

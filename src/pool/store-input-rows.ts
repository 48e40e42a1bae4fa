// The `inputs` table: an input a row each (a remote or spawned call's
// input, and a map's input moved out of its batch to be retried or put
// back). PoolStore keeps which of them run, and the counts, in memory; these
// are its statements, many rows per statement where it can.
import { blob, toRunning } from "./store-schema";
import { idConditions, inLists } from "./id-ranges";
import type { CallKind, InputRow, InputState, RunningInput, StoredInput } from "./store-schema";

/** Rows per INSERT within the 100 bound parameters: 6 per row and 3 shared; a spawned call's row binds 4. */
const ROWS_PER_INSERT = 16;
const SPAWN_ROWS_PER_INSERT = 24;

/** A pending row as a claim reads it (an array: a row object per input costs more than the statement). */
export type PendingRow = [id: number, callId: string, idx: number, kind: CallKind, method: string | null, args: ArrayBuffer, failures: number, losses: number];

export class InputRowTable {
  constructor(private readonly sql: SqlStorage) {}

  /** Writes rows: pending, or running on a container (then with `deadline`). */
  insert(inputs: ReadonlyArray<InputRow & { kind: CallKind }>, running: { containerId: string; deadline: number | null } | null): void {
    for (let i = 0; i < inputs.length; i += ROWS_PER_INSERT) {
      const rows = inputs.slice(i, i + ROWS_PER_INSERT);
      this.sql.exec(
        `INSERT INTO inputs (id, call_id, idx, kind, method, args, state, container_id, deadline) VALUES ${rows.map((_, k) => `(?${k * 6 + 4}, ?${k * 6 + 5}, ?${k * 6 + 6}, ?${k * 6 + 7}, ?${k * 6 + 8}, ?${k * 6 + 9}, ?1, ?2, ?3)`).join(",")}`,
        running ? "running" : "pending",
        running?.containerId ?? null,
        running?.deadline ?? null,
        ...rows.flatMap((r) => [r.id, r.callId, r.idx, r.kind, r.method, blob(r.args)]),
      );
    }
  }

  /** Spawned calls' inputs (idx 0 each), pending; one already there is left as it is. */
  insertSpawns(inputs: ReadonlyArray<{ id: number; callId: string; method: string | null; args: Uint8Array }>): void {
    for (let j = 0; j < inputs.length; j += SPAWN_ROWS_PER_INSERT) {
      const rows = inputs.slice(j, j + SPAWN_ROWS_PER_INSERT);
      this.sql.exec(
        `INSERT INTO inputs (id, call_id, idx, kind, method, args, state) VALUES ${rows.map((_, k) => `(?${k * 4 + 1}, ?${k * 4 + 2}, 0, 'spawn', ?${k * 4 + 3}, ?${k * 4 + 4}, 'pending')`).join(",")}
           ON CONFLICT(call_id, idx) DO NOTHING`,
        ...rows.flatMap((c) => [c.id, c.callId, c.method, blob(c.args)]),
      );
    }
  }

  /** An input moved out of its map's batch or its remote call's row, waiting to run again after `notBefore`. */
  insertRetry(input: InputRow & { kind: CallKind; failures: number; losses: number }, notBefore: number): void {
    this.sql.exec(
      "INSERT INTO inputs (id, call_id, idx, kind, method, args, state, failures, losses, not_before) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
      input.id,
      input.callId,
      input.idx,
      input.kind,
      input.method,
      blob(input.args),
      input.failures,
      input.losses,
      notBefore,
    );
  }

  /** Up to `limit` pending rows that may run at `now`, in id order (by the inputs_pending index: a deep queue is walked from its head, never sorted). */
  pendingHead(now: number, limit: number): PendingRow[] {
    return [
      ...this.sql
        .exec(
          "SELECT id, call_id, idx, kind, method, args, failures, losses FROM inputs INDEXED BY inputs_pending WHERE state = 'pending' AND not_before <= ? ORDER BY id LIMIT ?",
          now,
          limit,
        )
        .raw<PendingRow>(),
    ];
  }

  markRunning(ids: readonly number[], containerId: string, deadline: number | null): void {
    for (const { sql, params } of idConditions(ids)) {
      this.sql.exec(`UPDATE inputs SET state = 'running', container_id = ?, deadline = ? WHERE ${sql}`, containerId, deadline, ...params);
    }
  }

  /** A running row back to pending after `notBefore`; false if it was not running. */
  putBack(id: number, notBefore: number, failure: number, loss: number): boolean {
    const updated = this.sql.exec(
      `UPDATE inputs SET state = 'pending', container_id = NULL, deadline = NULL, not_before = ?, failures = failures + ?, losses = losses + ?
         WHERE id = ? AND state = 'running'`,
      notBefore,
      failure,
      loss,
      id,
    );
    return updated.rowsWritten > 0;
  }

  /** The running rows (a restarted pool's view). */
  running(): Array<RunningInput & { deadline: number | null }> {
    return this.sql
      .exec<Record<string, SqlStorageValue>>("SELECT id, call_id, idx, kind, container_id, failures, losses, deadline FROM inputs WHERE state = 'running'")
      .toArray()
      .map((r) => ({ ...toRunning(r), deadline: r.deadline as number | null }));
  }

  /** The latest time a pending row waits for (0 with none). */
  latestNotBefore(): number {
    return this.sql.exec<{ t: number | null }>("SELECT MAX(not_before) AS t FROM inputs WHERE state = 'pending' AND not_before > 0").one().t ?? 0;
  }

  /** The highest id a row ever had (AUTOINCREMENT's sequence: rows deleted since count too). */
  lastId(): number {
    return this.sql.exec<{ seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'inputs'").toArray()[0]?.seq ?? 0;
  }

  /** What completing these rows needs of them (those still here). */
  find(ids: readonly number[]): Array<[id: number, containerId: string | null, deadline: number | null, state: string, kind: string]> {
    const out: Array<[number, string | null, number | null, string, string]> = [];
    for (const { chunk, marks } of inLists(ids)) {
      out.push(
        ...this.sql
          .exec(`SELECT id, container_id, deadline, state, kind FROM inputs WHERE id IN (${marks})`, ...chunk)
          .raw<[number, string | null, number | null, string, string]>(),
      );
    }
    return out;
  }

  remove(ids: readonly number[]): void {
    for (const { sql, params } of idConditions(ids)) this.sql.exec(`DELETE FROM inputs WHERE ${sql}`, ...params);
  }

  /** The rows of a call, or of every call when null. */
  of(callId: string | null): StoredInput[] {
    const columns = "SELECT id, call_id, idx, kind, container_id, failures, losses, state FROM inputs";
    const rows = (
      callId === null
        ? this.sql.exec<Record<string, SqlStorageValue>>(columns)
        : this.sql.exec<Record<string, SqlStorageValue>>(`${columns} WHERE call_id = ?`, callId)
    ).toArray();
    return rows.map((r) => ({ ...toRunning(r), containerId: r.container_id as string | null, state: r.state as InputState }));
  }

  /** The earliest time a pending row waits for (its retry delay) after `now`, and how many wait past `now`. */
  delayed(now: number): { count: number; earliest: number | null } {
    const r = this.sql
      .exec<{ n: number; t: number | null }>(
        "SELECT COUNT(*) AS n, MIN(not_before) AS t FROM inputs WHERE state = 'pending' AND not_before > 0 AND not_before > ?",
        now,
      )
      .one();
    return { count: r.n, earliest: r.t };
  }

  callIdOf(id: number): string | null {
    return this.sql.exec<{ call_id: string }>("SELECT call_id FROM inputs WHERE id = ?", id).toArray()[0]?.call_id ?? null;
  }
}

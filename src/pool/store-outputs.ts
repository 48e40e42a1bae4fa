// The calls' outputs in the pool's SQLite: the outputs of one call that
// finish in one frame are one row (output-batch.ts packs them), read by a
// cursor of (batch seq, position in the batch) and dropped once read to
// their end. A remote call's small output is on its call's row instead
// (store-calls.ts): reads look there for a call's first output when no
// batch has one.
import type { OutputStatus } from "../../sdk/src/wire/api";
import { inLists } from "./id-ranges";
import { batchOutputs, packOutputs, positionOf, splitPosition, unpackOutputs, type StoredOutput } from "./output-batch";
import type { OutputRow } from "./store-schema";

/**
 * The cursor past an output kept on its call's row. No batch holds an output
 * of such a call, so read as a batch position (past batch 1: cursors below
 * POSITIONS_PER_BATCH are row seqs from before batches) it finds nothing either.
 */
export const CALL_ROW_OUTPUT_CURSOR = 1;

/**
 * How long a read's acknowledgement may wait in memory before its batches
 * are deleted. A delete is a commit that holds the read's answer (workerd's
 * output gate) and costs the pool's thread a write transaction, so reads
 * acknowledge in memory: the next outputs stored, or a read this long after
 * the last delete, deletes what has gathered. A pool that dies forgets them:
 * those batches go when their call does (a read never goes back before its
 * cursor, so it never sees them again).
 */
export const ACKNOWLEDGE_WRITE_INTERVAL_MS = 5_000;

export class OutputStore {
  /** Maps' read cursors whose batches are not deleted yet (call id → cursor), and when they last were. */
  private readonly acknowledged = new Map<string, number>();
  private acknowledgedWrittenAtMs = 0;

  constructor(private readonly sql: SqlStorage) {
    migrateOutputRows(sql);
  }

  /** A call's outputs, as few rows as fit (output-batch.ts). */
  insert(callId: string, outputs: readonly StoredOutput[]): void {
    this.writeAcknowledged();
    for (const batch of batchOutputs(outputs)) {
      this.sql.exec("INSERT INTO output_batches (call_id, count, outputs) VALUES (?, ?, ?)", callId, batch.length, packOutputs(batch).buffer);
    }
  }
  /** Up to `limit` outputs of a call after the cursor, in the order they were stored; values past `maxBytes` together wait for the next read (the first is always read). */
  read(callId: string, cursor: number, limit: number, maxBytes = Number.POSITIVE_INFINITY): OutputRow[] {
    const after = splitPosition(cursor);
    const out: OutputRow[] = [];
    let bytes = 0;
    for (const [seq, packed] of this.sql
      .exec("SELECT seq, outputs FROM output_batches WHERE call_id = ? AND seq >= ? ORDER BY seq", callId, after.batchSeq)
      .raw<[number, ArrayBuffer]>()) {
      const outputs = unpackOutputs(new Uint8Array(packed));
      for (let k = seq === after.batchSeq ? after.offset + 1 : 0; k < outputs.length && out.length < limit; k++) {
        bytes += outputs[k].value.byteLength;
        if (bytes > maxBytes && out.length > 0) return out;
        out.push({ cursor: positionOf(seq, k), ...outputs[k] });
      }
      if (out.length >= limit) break;
    }
    if (cursor === 0 && out.length === 0 && limit > 0) {
      const [row] = this.onCallRows([callId]);
      if (row) out.push(row);
    }
    return out;
  }
  /** The outputs kept on these calls' rows (a remote call's one output, when small), in the order found. */
  private onCallRows(callIds: readonly string[]): Array<{ callId: string } & OutputRow> {
    const out: Array<{ callId: string } & OutputRow> = [];
    for (const { chunk, marks } of inLists(callIds)) {
      for (const [callId, status, value] of this.sql
        .exec(`SELECT id, output_status, output_value FROM calls WHERE id IN (${marks}) AND output_status IS NOT NULL`, ...chunk)
        .raw<[string, OutputStatus, ArrayBuffer]>()) {
        out.push({ callId, cursor: CALL_ROW_OUTPUT_CURSOR, idx: 0, status, value: new Uint8Array(value) });
      }
    }
    return out;
  }
  /**
   * The output of input 0 of each of these calls that has one, in the order
   * given, until `maxBytes` of values (at least one output is always returned).
   */
  firstOfCalls(callIds: readonly string[], maxBytes: number): Array<{ callId: string } & OutputRow> {
    const found = new Map<string, OutputRow>();
    for (const { chunk, marks } of inLists(callIds)) {
      for (const [callId, seq, packed] of this.sql
        .exec(`SELECT call_id, seq, outputs FROM output_batches WHERE call_id IN (${marks})`, ...chunk)
        .raw<[string, number, ArrayBuffer]>()) {
        const outputs = unpackOutputs(new Uint8Array(packed));
        const k = outputs.findIndex((o) => o.idx === 0);
        if (k >= 0) found.set(callId, { cursor: positionOf(seq, k), ...outputs[k] });
      }
    }
    for (const { callId, ...row } of this.onCallRows(callIds.filter((id) => !found.has(id)))) found.set(callId, row);
    const out: Array<{ callId: string } & OutputRow> = [];
    let size = 0;
    for (const callId of callIds) {
      const row = found.get(callId);
      if (!row) continue;
      if (out.length > 0 && size + row.value.byteLength > maxBytes) break;
      size += row.value.byteLength;
      out.push({ callId, ...row });
    }
    return out;
  }
  /**
   * A map's outputs up to the cursor were received at `now`: its batches read
   * to their end go with the next write (ACKNOWLEDGE_WRITE_INTERVAL_MS).
   * Remote and spawn results are kept for their TTL.
   */
  acknowledge(callId: string, cursor: number, now: number): void {
    if (cursor > (this.acknowledged.get(callId) ?? 0)) this.acknowledged.set(callId, cursor);
    if (now - this.acknowledgedWrittenAtMs >= ACKNOWLEDGE_WRITE_INTERVAL_MS) this.writeAcknowledged(now);
  }
  /** Deletes the batches read to their end by the acknowledgements gathered. */
  writeAcknowledged(now?: number): void {
    if (now !== undefined) this.acknowledgedWrittenAtMs = now;
    for (const [callId, cursor] of this.acknowledged) {
      const upto = splitPosition(cursor);
      this.sql.exec("DELETE FROM output_batches WHERE call_id = ?1 AND (seq < ?2 OR (seq = ?2 AND count <= ?3 + 1))", callId, upto.batchSeq, upto.offset);
    }
    this.acknowledged.clear();
  }
  /** A deleted call's acknowledgement is moot: its batches went with it. */
  forget(callId: string): void {
    this.acknowledged.delete(callId);
  }
  /** The cursor after a call's last stored output (0 with none). */
  lastCursor(callId: string): number {
    const rows = this.sql.exec("SELECT seq, count FROM output_batches WHERE call_id = ? ORDER BY seq DESC LIMIT 1", callId).raw<[number, number]>();
    const last = [...rows][0];
    return last ? positionOf(last[0], last[1] - 1) : 0;
  }
}

/**
 * Outputs stored a row each (before output batches) become one-output batches
 * with the same seq, so a reader's cursor from before still finds its place.
 */
function migrateOutputRows(sql: SqlStorage): void {
  if (!sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outputs'").toArray().length) return;
  const rows = [...sql.exec("SELECT seq, call_id, idx, status, value FROM outputs ORDER BY seq").raw<[number, string, number, OutputStatus, ArrayBuffer]>()];
  for (const [seq, callId, idx, status, value] of rows) {
    sql.exec(
      "INSERT INTO output_batches (seq, call_id, count, outputs) VALUES (?, ?, 1, ?)",
      seq,
      callId,
      packOutputs([{ idx, status, value: new Uint8Array(value) }]).buffer,
    );
  }
  sql.exec("DROP TABLE outputs");
}

// The pool's durable state in its SQLite storage: calls and inputs, and the
// input queue's bookkeeping in memory (a map's inputs in batches,
// store-input-batches.ts; the rest a row each, store-input-rows.ts; outputs,
// containers, recent inputs, and the metrics series and log tail in
// store-outputs.ts, store-containers.ts, store-history.ts and
// store-telemetry.ts).
// Synchronous (DO SQLite is in-process); every method is one or a few
// statements, and batches stay batches.
import type { OutputStatus } from "../../sdk/src/wire/api";
import { SCHEMA, migrateCallRequests, migrateCallRows } from "./store-schema";
import type { StoredOutput } from "./output-batch";
import { OutputStore } from "./store-outputs";
import { CallTouches } from "./store-touches";
import { TelemetryStore } from "./store-telemetry";
import { HistoryStore } from "./store-history";
import { ContainerStore } from "./store-containers";
import { inLists } from "./id-ranges";
import { batchOf, claimRuns, isGone, liveInputs, markGone, packArgs, pendingIn, splitIntoBatches, takeInIdOrder, type InputBatch } from "./input-batch";
import { InputBatchTable } from "./store-input-batches";
import { InputRowTable } from "./store-input-rows";
import { CallTable, MAX_CALL_ROW_OUTPUT_BYTES, type NewRemoteCall } from "./store-calls";
import type { CallKind, CallRow, InputCounts, InputRow, RunningInput, StoredInput } from "./store-schema";

/** An input as a call brings it. */
export type NewInput = { idx: number; args: Uint8Array; method?: string | null };

/** An input's final output, as completeMany stores it. */
export interface FinishedInput {
  /** `kind`, when known, is the input's call's kind (what a runner's results carry from getRunning). */
  input: { id: number; callId: string; idx: number; kind?: CallKind };
  status: OutputStatus;
  value: Uint8Array;
}

/** Expired calls deleted per sweep: a bounded amount of work per alarm. */
export const EXPIRED_CALLS_PER_SWEEP = 500;

export { TOUCH_WRITE_INTERVAL_MS } from "./store-touches";

/**
 * A running input as the store keeps it: its deadline, and where it is
 * stored: the batch it was claimed from, its call's row (a remote's first
 * run, store-calls.ts), or else a row of its own.
 */
type RunningEntry = RunningInput & { deadline: number | null; batch: InputBatch | null; onCallRow?: true };

/** A running entry as the store's readers see it: without where it is stored. */
function runningInput(e: RunningEntry): RunningInput {
  return { id: e.id, callId: e.callId, idx: e.idx, kind: e.kind, containerId: e.containerId, failures: e.failures, losses: e.losses };
}

/** Input ids a remote call's id takes from the floor written to meta at a time: a write per this many calls. */
const INPUT_ID_RESERVE = 4_096;

export class PoolStore {
  /** The pending counts (running inputs are counted by `running` below). */
  private readonly counts: Omit<InputCounts, "running">;
  /** No pending input waits out a retry delay past this time: until it, nothing is delayed and no statement needs to ask. */
  private delayedUntilMs: number;
  /** The calls' outputs, a batch per row (store-outputs.ts). */
  readonly outputs: OutputStore;
  /** The metrics series and the log tail: written beside the inputs, read only by the dashboard and `squall logs`. */
  readonly telemetry: TelemetryStore;
  /** The pool's containers (store-containers.ts). */
  readonly containers: ContainerStore;
  /** The recent inputs behind the dashboard's "recent calls" (store-history.ts). */
  readonly history: HistoryStore;
  /**
   * The running inputs, as stored: every change to one goes through this
   * class, so a runner's results are matched to their inputs without a read.
   */
  private readonly running = new Map<number, RunningEntry>();
  /** Map inputs' batches (input-batch.ts), in id order; a batch goes once every input in it is gone. */
  private readonly batches: InputBatch[] = [];
  private readonly batchTable: InputBatchTable;
  /** Inputs a row each (store-input-rows.ts). */
  private readonly inputRows: InputRowTable;
  /**
   * The next input id to hand out, to a row, a batch or a call's row. Never
   * handed out twice: a runner holds outputs by input id across a pool's
   * restart. Rows keep SQLite's AUTOINCREMENT sequence up to date; ids of
   * batches and call rows stay under the floor in meta (`inputIdFloor`,
   * written ahead by INPUT_ID_RESERVE for call rows), since those rows go.
   */
  private nextInputId: number;
  /** The floor as written to meta. */
  private inputIdFloor: number;
  /** Calls kept: every call is created and deleted through this class. */
  private callCount: number;
  /** Pending input rows (not batches): while there are none, a claim need not ask SQLite for any. */
  private rowsPending = 0;
  /**
   * Remote calls not written yet, each with its one input: the pump right
   * after a call usually claims its input, and then the call's row is
   * written once, with the input running on it. writeFresh writes any left,
   * the input as a pending row, in the same turn (every method that reads
   * calls or input rows does first).
   */
  private fresh: Array<{ call: NewRemoteCall; input: InputRow & { kind: CallKind } }> = [];
  /** The calls' rows, with remote calls' running inputs on them (store-calls.ts). */
  private readonly calls: CallTable;
  /** Reads' touches of calls (each is kept for its TTL from its last read), written at most every TOUCH_WRITE_INTERVAL_MS (store-touches.ts). */
  readonly touches: CallTouches;

  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
    migrateCallRequests(sql);
    migrateCallRows(sql);
    this.outputs = new OutputStore(sql);
    this.touches = new CallTouches(sql);
    this.telemetry = new TelemetryStore(sql);
    this.containers = new ContainerStore(sql, () => {
      const counts = new Map<string, number>();
      for (const { containerId } of this.running.values()) counts.set(containerId, (counts.get(containerId) ?? 0) + 1);
      return counts;
    });
    this.history = new HistoryStore(sql);
    this.counts = { pendingCalls: 0, pendingSpawns: 0, awaitingDelivery: 0 };
    for (const r of sql.exec<{ state: string; kind: string; n: number }>("SELECT state, kind, COUNT(*) AS n FROM inputs GROUP BY state, kind")) {
      this.adjust(r.state, r.kind, r.n);
      if (r.state === "pending") this.rowsPending += r.n;
    }
    this.calls = new CallTable(sql);
    this.counts.awaitingDelivery = this.calls.countUndelivered();
    this.callCount = this.calls.count();
    this.inputRows = new InputRowTable(sql);
    for (const input of this.inputRows.running()) this.running.set(input.id, { ...input, batch: null });
    for (const [callId, id, containerId, deadline] of this.calls.runningInputs()) {
      this.running.set(id, { id, callId, idx: 0, kind: "remote", containerId, failures: 0, losses: 0, deadline, batch: null, onCallRow: true });
    }
    this.delayedUntilMs = this.inputRows.latestNotBefore();
    this.batchTable = new InputBatchTable(sql);
    for (const { batch, running, pending } of this.batchTable.load()) {
      this.batches.push(batch);
      for (const { offset, containerId, deadline } of running) this.runBatchInput(batch, offset, containerId, deadline);
      this.adjust("pending", "map", pending);
    }
    const last = this.batches.at(-1);
    this.inputIdFloor = this.getMeta<number>("inputIdFloor") ?? 0;
    this.nextInputId = Math.max(this.inputRows.lastId(), this.inputIdFloor, last ? last.firstId + last.count - 1 : 0) + 1;
  }

  /** Counts a change of pending inputs (a running one is counted by being in `running`). */
  private adjust(state: string, kind: string, delta: number): void {
    if (state === "running") return;
    if (kind === "spawn") this.counts.pendingSpawns += delta;
    else this.counts.pendingCalls += delta;
  }

  // ---- meta ----
  getMeta<T>(key: string): T | null {
    const rows = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray();
    return rows.length ? (JSON.parse(rows[0].value) as T) : null;
  }
  setMeta(key: string, value: unknown): void {
    this.sql.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, JSON.stringify(value));
  }
  /** Keeps the input id floor in meta at or above `lastId`, `reserve` ids ahead when it must move. */
  private raiseInputIdFloor(lastId: number, reserve: number): void {
    if (lastId <= this.inputIdFloor) return;
    this.inputIdFloor = lastId + reserve;
    this.setMeta("inputIdFloor", this.inputIdFloor);
  }

  // ---- calls ----
  /** A new call with its first inputs (numbered 0, 1, … by the API); null, or the call its request id already started (nothing written). */
  startCall(id: string, kind: Exclude<CallKind, "spawn">, closed: boolean, now: number, requestId: string | null, inputs: readonly NewInput[]): string | null {
    if (kind === "remote") return this.holdRemote({ id, closed, createdAt: now, requestId }, inputs);
    if (!this.calls.insertMap(id, closed, inputs.length, now, requestId) && requestId !== null) return this.callOfRequest(requestId);
    const added = this.insertBatches(id, inputs);
    this.callCount++;
    this.adjust("pending", kind, added);
    return null;
  }
  /** A remote call, held to be written when its input is claimed (or by writeFresh); null, or the call its request id already started. */
  private holdRemote(call: NewRemoteCall, inputs: readonly NewInput[]): string | null {
    if (inputs.length !== 1) throw new Error(`a remote call has exactly one input, not ${inputs.length}`);
    // Nothing runs between this read and the row's write (the same synchronous turn): the id cannot be taken meanwhile.
    const earlier = call.requestId === null ? null : this.callOfRequest(call.requestId);
    if (earlier !== null) return earlier;
    const [{ idx, args, method }] = inputs;
    const id = this.nextInputId++;
    this.raiseInputIdFloor(id, INPUT_ID_RESERVE);
    this.fresh.push({ call, input: { id, callId: call.id, idx, kind: "remote", method: method ?? null, args } });
    this.callCount++;
    this.adjust("pending", "remote", 1);
    return null;
  }
  /** Spawned calls, closed and waiting for their input from the spawn queue. */
  createSpawnCalls(ids: readonly string[], now: number): void {
    this.calls.insertSpawns(ids, now);
    this.counts.awaitingDelivery += ids.length;
    this.callCount += ids.length;
  }
  /** The call a client's request id started, while that call is kept. */
  callOfRequest(requestId: string): string | null {
    this.writeFresh();
    return this.calls.ofRequest(requestId);
  }
  getCall(id: string): CallRow | null {
    this.writeFresh();
    return this.calls.get(id);
  }
  closeCall(id: string): void {
    this.calls.close(id);
  }
  /** Which of these calls exist. */
  existingCalls(ids: readonly string[]): Set<string> {
    this.writeFresh();
    return this.calls.existing(ids);
  }
  markCancelled(id: string): void {
    this.writeFresh();
    this.calls.markCancelled(id);
  }
  deleteCall(id: string): void {
    this.writeFresh();
    for (const r of this.sql.exec<{ state: string; kind: string; n: number }>(
      "SELECT state, kind, COUNT(*) AS n FROM inputs WHERE call_id = ? GROUP BY state, kind",
      id,
    )) {
      this.adjust(r.state, r.kind, -r.n);
      if (r.state === "pending") this.rowsPending -= r.n;
    }
    const call = this.getCall(id);
    if (call && call.kind === "spawn" && call.total === 0 && !call.cancelled) this.counts.awaitingDelivery--;
    this.sql.exec("DELETE FROM output_batches WHERE call_id = ?", id);
    this.sql.exec("DELETE FROM inputs WHERE call_id = ?", id);
    if (call?.kind === "map") {
      for (const b of this.batches.filter((b) => b.callId === id)) {
        this.adjust("pending", "map", -pendingIn(b));
        this.batches.splice(this.batches.indexOf(b), 1);
      }
      this.batchTable.deleteCall(id);
    }
    for (const input of this.running.values()) if (input.callId === id) this.running.delete(input.id);
    if (this.calls.delete(id)) this.callCount--;
    this.touches.forget(id);
    this.outputs.forget(id);
  }
  /** Calls whose outputs are all delivered long enough ago, or abandoned maps (EXPIRED_CALLS_PER_SWEEP at a time: the pool sweeps again soon while a sweep comes back full). */
  expiredCalls(now: number, resultTtlMs: number, abandonedMapTtlMs: number): string[] {
    this.writeFresh();
    this.touches.write(now);
    this.outputs.writeAcknowledged(now);
    return this.calls.expired(now - resultTtlMs, now - abandonedMapTtlMs, EXPIRED_CALLS_PER_SWEEP);
  }
  /** Gives a spawned call that never reached the pool its one output. */
  completeUndelivered(callId: string, value: Uint8Array, now: number): void {
    if (!this.calls.completeUndelivered(callId, now)) return;
    this.counts.awaitingDelivery--;
    this.outputs.insert(callId, [{ idx: 0, status: "cancelled", value }]);
  }
  /** Spawned calls admitted but not delivered from the queue yet (they have no input row to cancel). */
  undeliveredSpawns(): string[] {
    return this.calls.undeliveredSpawns();
  }
  /** Whether any call is kept (the pool asks on every reconcile: counted, not read). */
  hasCalls(): boolean {
    return this.callCount > 0;
  }

  // ---- inputs ----
  /**
   * Adds inputs to a map call. They must be new: the pool admits a request's
   * inputs from the call's `total` on, so a resent batch adds nothing twice.
   * Returns how many were added.
   */
  addMapInputs(callId: string, inputs: readonly NewInput[]): number {
    this.writeFresh(); // ids in order: a batch's come after every input held
    const added = this.insertBatches(callId, inputs);
    if (added > 0) {
      this.sql.exec("UPDATE calls SET total = total + ? WHERE id = ?", added, callId);
      this.adjust("pending", "map", added);
    }
    return added;
  }
  /** A map's inputs, a batch per row (a new row at MAX_INPUTS_PER_BATCH, MAX_BATCH_ARGS_BYTES, a gap in idx or a change of method). */
  private insertBatches(callId: string, inputs: readonly NewInput[]): number {
    if (!inputs.length) return 0;
    for (const [start, end] of splitIntoBatches(inputs)) {
      const { packed, offsets } = packArgs(inputs.slice(start, end).map((i) => i.args));
      const count = end - start;
      const batch: InputBatch = {
        firstId: this.nextInputId,
        callId,
        method: inputs[start].method ?? null,
        firstIdx: inputs[start].idx,
        count,
        next: 0,
        gone: new Uint8Array((count + 7) >> 3),
        goneCount: 0,
        offsets,
      };
      this.nextInputId += count;
      this.batchTable.insert(batch, packed);
      this.batches.push(batch);
    }
    this.raiseInputIdFloor(this.nextInputId - 1, 0);
    return inputs.length;
  }
  /** Writes the held remote calls whose input no claim took, the inputs as pending rows. */
  writeFresh(): void {
    if (!this.fresh.length) return;
    const fresh = this.fresh;
    this.fresh = [];
    for (const { call } of fresh) this.calls.insertRemote(call, null);
    const inputs = fresh.map((f) => f.input);
    this.inputRows.insert(inputs, null);
    this.rowsPending += fresh.length;
  }
  /**
   * Spawned calls' inputs from the spawn queue, one per call: a call that is
   * gone, cancelled or already delivered is skipped (delivery is at least
   * once). Returns how many were delivered.
   */
  deliverSpawns(calls: ReadonlyArray<{ callId: string; args: Uint8Array; method: string | null }>): number {
    this.writeFresh(); // ids in order: these come after every input held
    let delivered = 0;
    for (const { chunk, marks } of inLists(calls)) {
      const waiting = new Set(
        this.sql
          .exec<{ id: string }>(`SELECT id FROM calls WHERE kind = 'spawn' AND total = 0 AND cancelled = 0 AND id IN (${marks})`, ...chunk.map((c) => c.callId))
          .toArray()
          .map((r) => r.id),
      );
      const delivering = chunk.filter((c) => waiting.delete(c.callId)); // a call twice in one delivery counts once
      if (delivering.length === 0) continue;
      this.inputRows.insertSpawns(delivering.map((c) => ({ id: this.nextInputId++, callId: c.callId, method: c.method, args: c.args })));
      this.sql.exec(`UPDATE calls SET total = 1 WHERE id IN (${delivering.map(() => "?").join(",")})`, ...delivering.map((c) => c.callId));
      delivered += delivering.length;
    }
    this.adjust("pending", "spawn", delivered);
    this.rowsPending += delivered;
    this.counts.awaitingDelivery -= delivered;
    return delivered;
  }
  /** The input counts; `readyNow` counts the pending inputs whose retry delay is over at `now`. */
  countInputs(now: number): InputCounts & { readyNow: number } {
    // Pending inputs waiting out a retry delay are few: count them by index, when there can be any.
    const delayed = now >= this.delayedUntilMs ? 0 : this.inputRows.delayed(now).count;
    return { ...this.counts, running: this.running.size, readyNow: this.counts.pendingCalls + this.counts.pendingSpawns - delayed };
  }
  /**
   * Takes up to `limit` pending inputs that may run now, oldest first (rows
   * and batches merged by id), and marks them running on a container.
   * `deadline` is null for inputs sent ahead of a free slot: their timeout starts when the runner says they started.
   */
  claimInputs(containerId: string, limit: number, now: number, deadline: number | null): InputRow[] {
    if (limit <= 0) return [];
    // In id order by the inputs_pending index: a deep queue is walked from its head, never sorted.
    // Rows as arrays (raw()): a row object per input costs more than the statement on this path.
    const rows = this.rowsPending === 0 ? [] : this.inputRows.pendingHead(now, limit);
    const taken = takeInIdOrder(
      this.batches,
      rows.map((row) => row[0]),
      limit,
    );
    // A batch's inputs taken are a run from its `next`: one claim, which reads their arguments, per batch.
    const claimed = new Map<InputBatch, { start: number; args: Uint8Array }>();
    for (const [batch, { start, end }] of claimRuns(taken)) {
      batch.next = end;
      claimed.set(batch, { start, args: this.batchTable.claim(batch, { containerId, start, end, deadline }) });
    }
    const rowIds: number[] = [];
    const out: InputRow[] = [];
    for (const t of taken) {
      if ("row" in t) {
        const [id, callId, idx, kind, method, args, failures, losses] = rows[t.row];
        this.adjust("pending", kind, -1);
        this.rowsPending--;
        rowIds.push(id);
        this.running.set(id, { id, callId, idx, kind, containerId, failures, losses, deadline, batch: null });
        out.push({ id, callId, idx, method: method ?? null, args: new Uint8Array(args) });
        continue;
      }
      const { batch, offset } = t;
      const { start, args } = claimed.get(batch)!;
      const base = batch.offsets[start];
      const input = this.runBatchInput(batch, offset, containerId, deadline);
      this.adjust("pending", "map", -1);
      out.push({
        id: input.id,
        callId: batch.callId,
        idx: input.idx,
        method: batch.method,
        args: args.subarray(batch.offsets[offset] - base, batch.offsets[offset + 1] - base),
      });
    }
    this.inputRows.markRunning(rowIds, containerId, deadline);
    // Held remote calls' inputs are the newest of all: they come last, each written once, on its call's row, as running.
    for (const { call, input } of this.fresh.splice(0, limit - out.length)) {
      const { id, callId, idx, kind, method, args } = input;
      this.calls.insertRemote(call, { inputId: id, args, method, containerId, deadline });
      this.adjust("pending", kind, -1);
      this.running.set(id, { id, callId, idx, kind, containerId, failures: 0, losses: 0, deadline, batch: null, onCallRow: true });
      out.push({ id, callId, idx, method, args });
    }
    return out;
  }
  /** A batch's input, running on a container (claimed now, or by the claim a restarted pool read). */
  private runBatchInput(batch: InputBatch, offset: number, containerId: string, deadline: number | null): RunningEntry {
    const id = batch.firstId + offset;
    const entry = { id, callId: batch.callId, idx: batch.firstIdx + offset, kind: "map" as const, containerId, failures: 0, losses: 0, deadline, batch };
    this.running.set(id, entry);
    return entry;
  }
  /**
   * The inputs of these ids that run on this container, with their deadlines:
   * the store's own entries, read only (every change goes through the store),
   * since a copy per input cost more than the rest of this path.
   */
  getRunning(ids: readonly number[], containerId: string): Map<number, Readonly<RunningInput & { deadline: number | null }>> {
    const out = new Map<number, Readonly<RunningInput & { deadline: number | null }>>();
    for (const id of ids) {
      const e = this.running.get(id);
      if (e?.containerId === containerId) out.set(id, e);
    }
    return out;
  }
  /** The inputs running on a container; `started` is false for those sent ahead of a slot that have not started yet. */
  runningOn(containerId: string): Array<RunningInput & { started: boolean }> {
    const out: Array<RunningInput & { started: boolean }> = [];
    for (const e of this.running.values()) if (e.containerId === containerId) out.push({ ...runningInput(e), started: e.deadline !== null });
    return out;
  }
  /**
   * Inputs sent ahead of a slot have started on this container: their timeouts
   * run from now. Kept in memory only: a pool that restarts learns again which
   * inputs started from the container's `ready` when it reconnects (fleet.ts
   * resync), so a write per started input would buy nothing.
   */
  markStarted(containerId: string, ids: readonly number[], deadline: number): void {
    for (const id of ids) {
      const input = this.running.get(id);
      if (input?.containerId === containerId && input.deadline === null) input.deadline = deadline;
    }
  }
  /** Running inputs past their deadline (at most 1 000 at a time). */
  overdue(now: number): RunningInput[] {
    const out: RunningInput[] = [];
    for (const e of this.running.values()) {
      if (e.deadline !== null && e.deadline <= now) out.push(runningInput(e));
      if (out.length >= 1_000) break;
    }
    return out;
  }
  /**
   * Puts a running input back in the queue (a retry after `notBefore`, or a
   * lost container). One from a batch moves to a row of its own, keeping its
   * id, so its failures and losses are counted where it now waits.
   */
  requeue(input: RunningInput, notBefore: number, counts: { failure?: boolean; loss?: boolean }): void {
    const entry = this.running.get(input.id);
    const failure = counts.failure ? 1 : 0;
    const loss = counts.loss ? 1 : 0;
    if (entry?.batch) {
      const { batch } = entry;
      const offset = entry.id - batch.firstId;
      const args = this.batchTable.args(batch, offset, offset + 1);
      this.inputRows.insertRetry({ ...entry, method: batch.method, args, failures: entry.failures + failure, losses: entry.losses + loss }, notBefore);
      markGone(batch, offset);
      this.writeGone([batch]);
    } else if (entry?.onCallRow) {
      const taken = this.calls.takeInput(entry.callId);
      if (!taken) return;
      this.inputRows.insertRetry({ ...entry, ...taken, failures: failure, losses: loss }, notBefore);
    } else {
      if (!this.inputRows.putBack(input.id, notBefore, failure, loss)) return;
    }
    this.running.delete(input.id);
    this.adjust("pending", input.kind, 1);
    this.rowsPending++;
    this.delayedUntilMs = Math.max(this.delayedUntilMs, notBefore);
  }
  /** Writes batches' gone bits; a batch whose every input is gone is dropped. */
  private writeGone(batches: Iterable<InputBatch>): void {
    for (const batch of batches) {
      this.batchTable.writeGone(batch);
      if (batch.goneCount >= batch.count) this.batches.splice(this.batches.indexOf(batch), 1);
    }
  }
  /**
   * Records final outputs (and their lines in the history) and removes their
   * inputs: a few statements per batch, not per input. An input already gone
   * keeps its first output.
   */
  completeMany(given: ReadonlyArray<FinishedInput>, now: number, timeoutMs = 0): void {
    if (!given.length) return;
    this.writeFresh();
    type Found = { container_id: string | null; deadline: number | null; state: string; kind: string; batch: InputBatch | null; onCallRow?: true };
    const rows = new Map<number, Found>();
    const unread: number[] = [];
    for (const f of given) {
      const r = this.running.get(f.input.id);
      if (r) {
        rows.set(f.input.id, { container_id: r.containerId, deadline: r.deadline, state: "running", kind: r.kind, batch: r.batch, onCallRow: r.onCallRow });
        continue;
      }
      // Not running: a pending input of a batch (cancelled before its turn), or a row (one moved out of its batch too).
      const batch = batchOf(this.batches, f.input.id);
      if (batch && !isGone(batch, f.input.id - batch.firstId))
        rows.set(f.input.id, { container_id: null, deadline: null, state: "pending", kind: "map", batch });
      else unread.push(f.input.id);
    }
    for (const [id, container_id, deadline, state, kind] of this.inputRows.find(unread)) rows.set(id, { container_id, deadline, state, kind, batch: null });
    // Only inputs that are still here end, once each: an input already gone keeps its first output.
    const finished: Array<FinishedInput & { row: Found }> = [];
    const rowIds: number[] = [];
    const touched = new Set<InputBatch>();
    for (const f of given) {
      const row = rows.get(f.input.id);
      if (!row) continue;
      rows.delete(f.input.id);
      this.running.delete(f.input.id);
      this.adjust(row.state, row.kind, -1);
      if (!row.batch && row.state === "pending") this.rowsPending--;
      finished.push({ input: f.input, status: f.status, value: f.value, row });
      if (row.batch) {
        markGone(row.batch, f.input.id - row.batch.firstId);
        touched.add(row.batch);
      } else if (!row.onCallRow) {
        rowIds.push(f.input.id);
      }
    }
    if (!finished.length) return;
    this.inputRows.remove(rowIds);
    this.writeGone(touched);
    this.history.record(
      finished.map((f) => ({
        callId: f.input.callId,
        idx: f.input.idx,
        status: f.status,
        containerId: f.row.container_id,
        startedAt: f.row.deadline !== null ? f.row.deadline - timeoutMs : null,
        finishedAt: now,
        error: f.status === "success" ? null : f.value,
      })),
      now,
    );
    const perCall = new Map<string, StoredOutput[]>();
    const remoteCalls = new Set<string>();
    for (const f of finished) {
      if (f.row.kind === "remote") remoteCalls.add(f.input.callId);
      const output = { idx: f.input.idx, status: f.status, value: f.value };
      const outputs = perCall.get(f.input.callId);
      if (outputs) outputs.push(output);
      else perCall.set(f.input.callId, [output]);
    }
    // One output row per call per frame; one UPDATE per distinct count, so a frame of spawned calls' outputs (one each) is one statement.
    // A remote call's small output goes on its call's row instead, with its one UPDATE (store-calls.ts).
    const byCount = new Map<number, string[]>();
    for (const [callId, outputs] of perCall) {
      if (remoteCalls.has(callId) && outputs.length === 1 && outputs[0].value.byteLength <= MAX_CALL_ROW_OUTPUT_BYTES) {
        this.calls.finishRemote(callId, outputs[0], now);
        continue;
      }
      this.outputs.insert(callId, outputs);
      const same = byCount.get(outputs.length);
      if (same) same.push(callId);
      else byCount.set(outputs.length, [callId]);
    }
    for (const [n, callIds] of byCount) this.calls.addDone(callIds, n, now);
  }
  /** Inputs of a call (or of every call, when null), for cancellation. */
  inputsOf(callId: string | null): StoredInput[] {
    this.writeFresh();
    const out = this.inputRows.of(callId);
    for (const e of this.running.values()) if (e.onCallRow && (callId === null || e.callId === callId)) out.push({ ...runningInput(e), state: "running" });
    for (const batch of this.batches) {
      if (callId !== null && batch.callId !== callId) continue;
      for (const { id, idx, claimed } of liveInputs(batch)) {
        const entry = claimed ? this.running.get(id) : undefined;
        if (entry) out.push({ id, callId: entry.callId, idx, kind: "map", containerId: entry.containerId, failures: 0, losses: 0, state: "running" });
        else out.push({ id, callId: batch.callId, idx, kind: "map", containerId: null, failures: 0, losses: 0, state: "pending" });
      }
    }
    return out;
  }
  earliestNotBefore(now: number): number | null {
    if (now >= this.delayedUntilMs) return null;
    return this.inputRows.delayed(now).earliest;
  }
  earliestDeadline(): number | null {
    let earliest: number | null = null;
    for (const { deadline } of this.running.values()) if (deadline !== null && (earliest === null || deadline < earliest)) earliest = deadline;
    return earliest;
  }

  callIdOfInput(id: number): string | null {
    this.writeFresh();
    const known = this.running.get(id)?.callId ?? batchOf(this.batches, id)?.callId;
    if (known !== undefined) return known;
    return this.inputRows.callIdOf(id);
  }
}

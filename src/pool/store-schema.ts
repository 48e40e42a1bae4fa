// The pool's SQLite schema and its migrations, the row types PoolStore reads
// and writes (store.ts), and the conversions between rows and those types.
// Kept apart so the store itself stays about its statements.
import type { OutputStatus } from "../../sdk/src/wire/api";

export type CallKind = "remote" | "map" | "spawn";
export type InputState = "pending" | "running";
export type ContainerState = "starting" | "ready" | "stopping";

export interface CallRow {
  id: string;
  kind: CallKind;
  closed: number;
  total: number;
  done: number;
  cancelled: number;
  createdAt: number;
  /** Last time a client read outputs (map calls are dropped when abandoned). */
  touchedAt: number;
}

export interface InputRow {
  id: number;
  callId: string;
  idx: number;
  method: string | null;
  args: Uint8Array;
}

export interface RunningInput {
  id: number;
  callId: string;
  idx: number;
  kind: CallKind;
  containerId: string;
  failures: number;
  losses: number;
}

/** An input as cancellation and sweeps list them: a pending one has no container. */
export type StoredInput = Omit<RunningInput, "containerId"> & { containerId: string | null; state: InputState };

export interface ContainerRow {
  id: string;
  state: ContainerState;
  deploymentId: string;
  secret: string;
  startedAt: number;
  idleSince: number | null;
  running: number;
}

export interface OutputRow {
  /** Where this output sits in its call's outputs: the cursor to read on after it. */
  cursor: number;
  idx: number;
  status: OutputStatus;
  value: Uint8Array;
}

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- request_id: the client's id of the request that started the call (calls_by_request, created by
-- migrateCallRequests below, since pools from before get the column added first).
-- input_*: a remote call's input while it runs, output_*: its output when small (store-calls.ts; migrateCallRows
-- adds them to older pools). output_value stays last: a scan of the other columns never reads a value's overflow pages.
CREATE TABLE IF NOT EXISTS calls (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, closed INTEGER NOT NULL, total INTEGER NOT NULL,
  done INTEGER NOT NULL DEFAULT 0, cancelled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL, touched_at INTEGER NOT NULL, request_id TEXT,
  input_id INTEGER, input_args BLOB, input_method TEXT, input_container TEXT, input_deadline INTEGER,
  output_status TEXT, output_value BLOB);
CREATE TABLE IF NOT EXISTS inputs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT NOT NULL, idx INTEGER NOT NULL,
  kind TEXT NOT NULL, method TEXT, args BLOB NOT NULL, state TEXT NOT NULL,
  container_id TEXT, failures INTEGER NOT NULL DEFAULT 0, losses INTEGER NOT NULL DEFAULT 0,
  not_before INTEGER NOT NULL DEFAULT 0, deadline INTEGER);
-- Partial indexes: an input leaves the queue's index when it starts, and only inputs
-- waiting out a retry delay (or put back) are in the delayed one, so most inputs pay
-- for one queue entry, not two indexes rewritten on every change of state.
DROP INDEX IF EXISTS inputs_by_state;
DROP INDEX IF EXISTS inputs_queue;
CREATE INDEX IF NOT EXISTS inputs_pending ON inputs (id) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS inputs_delayed ON inputs (not_before) WHERE state = 'pending' AND not_before > 0;
-- A container's inputs are found in memory (PoolStore keeps the running ones), not by index.
DROP INDEX IF EXISTS inputs_by_container;
-- (call_id) lookups use inputs_call_idx below; a separate index only cost a write per input.
DROP INDEX IF EXISTS inputs_by_call;
CREATE UNIQUE INDEX IF NOT EXISTS inputs_call_idx ON inputs (call_id, idx);
-- A map's inputs, a batch per row (input-batch.ts): input ids first_id … first_id + count - 1.
-- One retried or put back moves to a row of its own in inputs, keeping its id.
-- What changes (claims, gone bits) is apart from what is written once (arguments and their offsets): SQLite
-- rewrites a whole row on every UPDATE, and a batch's arguments are kilobytes.
CREATE TABLE IF NOT EXISTS input_batches (
  first_id INTEGER PRIMARY KEY, call_id TEXT NOT NULL, method TEXT, first_idx INTEGER NOT NULL, count INTEGER NOT NULL,
  next INTEGER NOT NULL, gone BLOB NOT NULL, claims TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS input_batches_by_call ON input_batches (call_id);
CREATE TABLE IF NOT EXISTS input_batch_args (first_id INTEGER PRIMARY KEY, offsets BLOB NOT NULL, packed BLOB NOT NULL);
-- A call's outputs, packed a batch per row (output-batch.ts): those finished in one frame.
CREATE TABLE IF NOT EXISTS output_batches (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT NOT NULL, count INTEGER NOT NULL, outputs BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS output_batches_by_call ON output_batches (call_id, seq);
CREATE INDEX IF NOT EXISTS calls_by_touch ON calls (touched_at);
CREATE TABLE IF NOT EXISTS containers (
  id TEXT PRIMARY KEY, state TEXT NOT NULL, deployment_id TEXT NOT NULL, secret TEXT NOT NULL,
  started_at INTEGER NOT NULL, idle_since INTEGER, running INTEGER NOT NULL DEFAULT 0);
-- containers.running is no longer written (store-containers.ts counts running inputs instead); older rows keep the column.
-- Recent inputs, a frame of lines per row (store-history.ts). The table of a line per row
-- before it held only the dashboard's last 200 lines, and is dropped.
DROP TABLE IF EXISTS history;
CREATE TABLE IF NOT EXISTS history_batches (seq INTEGER PRIMARY KEY AUTOINCREMENT, lines INTEGER NOT NULL, packed TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS metrics (
  ts INTEGER PRIMARY KEY, starting INTEGER NOT NULL, idle INTEGER NOT NULL, busy INTEGER NOT NULL,
  backlog INTEGER NOT NULL, running INTEGER NOT NULL, completed INTEGER NOT NULL, failed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS logs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, container_id TEXT NOT NULL,
  call_id TEXT, stream TEXT NOT NULL, text TEXT NOT NULL);
`;

export interface MetricPoint {
  ts: number;
  starting: number;
  idle: number;
  busy: number;
  backlog: number;
  running: number;
  /** Inputs finished since the previous point, and how many of them failed. */
  completed: number;
  failed: number;
}

export interface HistoryRow {
  callId: string;
  idx: number;
  status: OutputStatus;
  containerId: string | null;
  startedAt: number | null;
  finishedAt: number;
  /** CBOR of the SerializedError, for inputs that did not succeed. */
  error: Uint8Array | null;
}

/** Input counts, kept up to date by every change instead of counted: a pool may hold a million spawned calls. */
export interface InputCounts {
  pendingCalls: number;
  pendingSpawns: number;
  running: number;
  /** Spawned calls admitted whose input has not arrived from the spawn queue yet. */
  awaitingDelivery: number;
}

// ---- migrations ----

/**
 * A call's request id is on its row: one index entry per call, where a table
 * of request ids took a row and two index entries. A pool from before gets
 * the column, and its request ids move over from that table.
 */
export function migrateCallRequests(sql: SqlStorage): void {
  const calls = sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'calls'").one().sql;
  if (!calls.includes("request_id")) sql.exec("ALTER TABLE calls ADD COLUMN request_id TEXT");
  sql.exec("CREATE UNIQUE INDEX IF NOT EXISTS calls_by_request ON calls (request_id) WHERE request_id IS NOT NULL");
  if (sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'call_requests'").toArray().length === 0) return;
  sql.exec("UPDATE calls SET request_id = (SELECT request_id FROM call_requests WHERE call_id = calls.id) WHERE id IN (SELECT call_id FROM call_requests)");
  sql.exec("DROP TABLE call_requests");
}

/** A remote call's running input and small output are kept on its call's row (store-calls.ts): a pool from before gets the columns. */
export function migrateCallRows(sql: SqlStorage): void {
  const calls = sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'calls'").one().sql;
  const columns = [
    "input_id INTEGER",
    "input_args BLOB",
    "input_method TEXT",
    "input_container TEXT",
    "input_deadline INTEGER",
    "output_status TEXT",
    "output_value BLOB",
  ];
  // Each column on its own: a pool may have some of them (the input's came first).
  for (const column of columns) if (!calls.includes(`${column.split(" ")[0]} `)) sql.exec(`ALTER TABLE calls ADD COLUMN ${column}`);
}

// ---- row conversions ----

/**
 * An exact copy as an ArrayBuffer. Encoders hand out views of shared pools
 * (and a Node Buffer's slice() is a view too), so never store `b.buffer`.
 */
export function blob(b: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return copy.buffer;
}
export const bytes = (v: unknown): Uint8Array => new Uint8Array(v as ArrayBuffer);

export function toRunning(r: Record<string, SqlStorageValue>): RunningInput {
  return {
    id: r.id as number,
    callId: r.call_id as string,
    idx: r.idx as number,
    kind: r.kind as CallKind,
    containerId: r.container_id as string,
    failures: r.failures as number,
    losses: r.losses as number,
  };
}

// The pool's SQLite schema, the row types PoolStore reads and writes
// (store.ts), and the conversions between rows and those types. Kept apart
// so the store itself stays about its statements.
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
  seq: number;
  idx: number;
  status: OutputStatus;
  value: Uint8Array;
}

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS calls (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, closed INTEGER NOT NULL, total INTEGER NOT NULL,
  done INTEGER NOT NULL DEFAULT 0, cancelled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL, touched_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS inputs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT NOT NULL, idx INTEGER NOT NULL,
  kind TEXT NOT NULL, method TEXT, args BLOB NOT NULL, state TEXT NOT NULL,
  container_id TEXT, failures INTEGER NOT NULL DEFAULT 0, losses INTEGER NOT NULL DEFAULT 0,
  not_before INTEGER NOT NULL DEFAULT 0, deadline INTEGER);
CREATE INDEX IF NOT EXISTS inputs_by_state ON inputs (state, not_before, id);
CREATE INDEX IF NOT EXISTS inputs_queue ON inputs (state, id);
CREATE INDEX IF NOT EXISTS inputs_by_container ON inputs (container_id) WHERE container_id IS NOT NULL;
-- (call_id) lookups use inputs_call_idx below; a separate index only cost a write per input.
DROP INDEX IF EXISTS inputs_by_call;
CREATE UNIQUE INDEX IF NOT EXISTS inputs_call_idx ON inputs (call_id, idx);
CREATE TABLE IF NOT EXISTS outputs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT NOT NULL, idx INTEGER NOT NULL,
  status TEXT NOT NULL, value BLOB NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS outputs_by_call ON outputs (call_id, seq);
CREATE INDEX IF NOT EXISTS calls_by_touch ON calls (touched_at);
CREATE TABLE IF NOT EXISTS call_requests (request_id TEXT PRIMARY KEY, call_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS call_requests_by_call ON call_requests (call_id);
CREATE UNIQUE INDEX IF NOT EXISTS outputs_call_idx ON outputs (call_id, idx);
CREATE TABLE IF NOT EXISTS containers (
  id TEXT PRIMARY KEY, state TEXT NOT NULL, deployment_id TEXT NOT NULL, secret TEXT NOT NULL,
  started_at INTEGER NOT NULL, idle_since INTEGER, running INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS history (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT NOT NULL, idx INTEGER NOT NULL, status TEXT NOT NULL,
  container_id TEXT, started_at INTEGER, finished_at INTEGER NOT NULL, error BLOB);
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

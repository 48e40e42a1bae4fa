// The pool <-> runner channel: one WebSocket per container, opened by the
// pool (GET /connect with `Authorization: Bearer <container secret>`), binary
// CBOR frames, every message batched (docs/architecture.md "The runner protocol").
import type { SerializedError } from "./serialization.js";
import type { OutputStatus } from "./api.js";

export const RUNNER_PORT = 8080;
export const RUNNER_CONNECT_PATH = "/connect";
export const RUNNER_HEALTH_PATH = "/healthz";
/** How often a runner reports it is alive. */
export const HEARTBEAT_INTERVAL_MS = 2_000;
/**
 * A pool acknowledges stored outputs together, at most this long after
 * storing them: a runner only frees memory on them, and a frame per stored
 * output costs a write at the pool and a read at the runner on a remote
 * call's path.
 */
export const ACK_INTERVAL_MS = 20;
/** Sooner once this many wait: a frame stays small, and a runner's held outputs well under its buffer. */
export const MAX_PENDING_ACKS = 4_096;

/** What the container runs: a function, or a class instance with its constructor params. */
export type RunnerTarget = { kind: "function"; name: string } | { kind: "class"; name: string; params: Uint8Array };

export interface InitMessage {
  t: "init";
  containerId: string;
  deploymentId: string;
  /** Where to GET the app's ESM bundle; send the container secret as bearer token. */
  bundleUrl: string;
  target: RunnerTarget;
  maxInputs: number;
}

export interface RunnerInput {
  /** The pool's id for this attempt of this input. */
  id: number;
  /** For class targets: which method. */
  method?: string;
  /** CBOR of the argument list. */
  args: Uint8Array;
}

/**
 * A generator input's values, each sent as it is yielded (README "Streaming
 * generators"). `seq` counts from 0 per input; the pool keeps them in order
 * and ignores one it already has, so a resend is harmless.
 */
export interface RunnerStreamItem {
  id: number;
  seq: number;
  /** CBOR of the yielded value. */
  value: Uint8Array;
}

/**
 * The back-pressure window: a generator runs at most this many values ahead
 * of its reader. Before any grant arrives, a runner may send values 0 to
 * STREAM_WINDOW - 1.
 */
export const STREAM_WINDOW = 32;

/** Per generator input: the pool has stored values below `stored`, and the runner may send values below `until`. */
export interface StreamGrant {
  id: number;
  stored: number;
  until: number;
}

export type PoolToRunner =
  | InitMessage
  | { t: "inputs"; inputs: RunnerInput[] }
  | { t: "cancel"; ids: number[] }
  /** The pool has stored these inputs' outputs: the runner stops holding them for a resend. */
  | { t: "ack"; ids: number[] }
  | { t: "stream_grants"; grants: StreamGrant[] }
  | { t: "shutdown" };

export interface RunnerOutput {
  id: number;
  status: Extract<OutputStatus, "success" | "failure">;
  /** CBOR of the return value, or of a SerializedError. */
  value: Uint8Array;
}

export interface LogLine {
  /** The input the line was written during, if any. */
  inputId?: number;
  stream: "stdout" | "stderr";
  text: string;
  ts: number;
}

export type RunnerToPool =
  /**
   * `holding`: every input the runner still has (running, queued, or its output
   * not yet acknowledged). A pool that reconnects after a restart re-queues the
   * inputs it thinks run here that are not in it (they never arrived).
   */
  | {
      t: "ready";
      containerId: string;
      holding: number[];
      /** Of those, the inputs it sent `started` for (or would have): their timeouts run from their start, not from their arrival. */
      running?: number[];
    }
  | { t: "init_failed"; error: SerializedError }
  /**
   * `started`: inputs that waited here for a slot (the pool sent them ahead,
   * see docs/architecture.md "Prefetch") and have now started; their timeouts
   * run from now. Sent in the same frame as the outputs that freed the slots.
   */
  | { t: "outputs"; outputs: RunnerOutput[]; started?: number[] }
  /** Yielded values, always sent before their input's output. */
  | { t: "items"; items: RunnerStreamItem[] }
  | { t: "heartbeat"; running: number }
  | { t: "logs"; lines: LogLine[] };

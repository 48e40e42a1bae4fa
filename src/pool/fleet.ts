// A pool's containers: starting them, their connections and the runner
// protocol spoken over them, noticing they are lost, stopping them, and
// finding them again after the pool restarts. What runs on them (the call
// ledger, retries, the breaker's verdict) is the pool's: the fleet reports to
// it through FleetHost.
import type { Env } from "../env";
import type { OutputStatus } from "../../sdk/src/wire/api";
import type { PoolToRunner, RunnerToPool, RunnerOutput, RunnerStreamItem, LogLine } from "../../sdk/src/wire/protocol";
import { ACK_INTERVAL_MS, HEARTBEAT_INTERVAL_MS, MAX_PENDING_ACKS } from "../../sdk/src/wire/protocol";
import { encode, decode, type SerializedError } from "../../sdk/src/wire/serialization";
import { base64urlToBytes } from "../../sdk/src/wire/base64url";
import { chunkBySize } from "../../sdk/src/wire/chunks";
import { inputsFrame, type FrameInput } from "./input-frames";
import { decodeSimpleMap, knownKeys } from "../../sdk/src/wire/simple-cbor";
import { pathOf, ROUTES } from "../../sdk/src/wire/routes";
import type { ComputeBackend } from "../compute";
import { containerSecret, containerToken, randomId, signingKey } from "../auth/crypto";
import type { Clock } from "./clock";
import type { PoolConfig } from "./config";
import { classifyStartError, type StartGate } from "./start-gate";
import type { PoolStore } from "./store";
import * as limits from "./limits";

/**
 * Strings a runner's frames repeat (an outputs frame: one id, status and value per output), the
 * statuses too: a string matched here is not built again character by character.
 */
const RUNNER_FRAME_KEYS = knownKeys(["t", "outputs", "id", "status", "value", "started", "success", "failure", "timeout", "cancelled", "platform_error"]);

/** An idle runner silent for this long is taken as gone (several missed heartbeats, not one slow one). */
const HEARTBEAT_TIMEOUT_MS = 15 * HEARTBEAT_INTERVAL_MS;
/**
 * A busy runner silent for this long is asked about. Synchronous user code
 * blocks its heartbeats, so silence alone does not condemn it; but a killed
 * one may never close its socket (`docker kill`), and asking the backend is
 * cheap, so it is asked after a few missed heartbeats.
 */
const BUSY_PROBE_SILENCE_MS = 3 * HEARTBEAT_INTERVAL_MS;
/** Asking why a container exited: up to 5 tries, 100 ms apart (a process exit is seen within milliseconds of its socket closing). */
const EXIT_INFO_ATTEMPTS = 5;
const EXIT_INFO_INTERVAL_MS = 100;
/** Inputs sent to a runner in one frame: well under WebSocket message limits, even with large arguments. */
const MAX_INPUT_FRAME_BYTES = 8 * 1024 * 1024;

/** What the fleet needs from its pool, and what it tells it. */
export interface FleetHost {
  readonly store: PoolStore;
  readonly startGate: StartGate;
  readonly clock: Clock;
  readonly env: Env;
  config(): PoolConfig | null;
  startupTimeoutMs(): number;
  /** Keeps the object alive for background work (a start under way). */
  waitUntil(promise: Promise<unknown>): void;
  /** A container said ready; `startupMs` is how long it took when it was starting (null after a reconnect). */
  ready(containerId: string, startupMs: number | null): void;
  /** A runner's results for inputs it was sent; returns the ids of those it acknowledges itself once stored (early-outputs.ts). */
  outputs(containerId: string, outputs: RunnerOutput[]): readonly number[];
  /** Values generator inputs on this container yielded. */
  items(containerId: string, items: RunnerStreamItem[]): void;
  /** A container failed to start on its own account (the breaker counts these). */
  startFailed(containerId: string, message: string, error?: SerializedError): void;
  /** An input's final output. */
  finish(input: { id: number; callId: string; idx: number }, status: OutputStatus, value: Uint8Array, now: number): void;
  /** Inputs or containers changed: dispatch and scale. */
  loadChanged(): void;
  /** A start finished (either way): scale again. */
  reconcile(): void;
  /** Stores outputs answered early: called before anything looks at what containers run. */
  settle(): void;
}

/** The pool's view of its containers. */
export interface Fleet {
  /** Asks for one more container: its row goes in now, the start runs in the background. */
  start(): void;
  /** Connects to a started container and sends it init. */
  connect(id: string, secret: string): Promise<void>;
  attach(id: string, ws: WebSocket): void;
  send(id: string, message: PoolToRunner): void;
  /** Tells a runner (within ACK_INTERVAL_MS) the pool has these outputs; a runner that misses it sends them again on its next connection. */
  acknowledge(id: string, inputIds: number[]): void;
  sendInputs(id: string, inputs: readonly FrameInput[]): void;
  /** A container went away without being asked to: its inputs go back to the queue (or fail). */
  lost(id: string, reason: string): Promise<void>;
  /** Stops a container the pool no longer wants; `requeue` puts its running inputs back without counting against them. */
  stop(id: string, requeue: boolean): Promise<void>;
  /** After a restart: reconnects to the containers still running; they resync before taking inputs. */
  recover(): Promise<void>;
  /** Takes a reconnected container's word on which inputs it holds. */
  resync(id: string, holding: readonly number[], started: readonly number[]): void;
  /** The container finishes what it runs, takes nothing new, and is stopped once empty. */
  drain(id: string): void;
  draining(id: string): boolean;
  /** Whether the container may be sent inputs (connected, not draining, not resyncing). */
  accepting(id: string): boolean;
  /** Heartbeats, resync answers and startup deadlines: gives up on containers that missed theirs. */
  checkLiveness(now: number): Promise<void>;
  /** Forgets every connection (the pool is being destroyed). */
  clear(): void;
  /** A line about the pool's containers in the app's logs. */
  log(containerId: string, text: string): void;
}

interface Connection {
  ws: WebSocket;
  lastSeenMs: number;
  /**
   * Set while a container reconnected after a pool restart has not yet said
   * which inputs it holds: it gets no new inputs until it has.
   */
  resyncSinceMs: number | null;
  /** Inputs whose outputs are stored, not yet acknowledged to the runner. */
  acks: number[];
}

export class ContainerFleet implements Fleet {
  private readonly connections = new Map<string, Connection>();
  /**
   * Containers where an input timed out while others still run: they finish
   * those, take no new ones, and are stopped once empty (in memory: after an
   * eviction such a container serves again, and a hung one times out again).
   */
  private readonly drainingIds = new Set<string>();
  private ackTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly host: FleetHost,
    private readonly backend: ComputeBackend,
  ) {}

  private get store(): PoolStore {
    return this.host.store;
  }

  private now(): number {
    return this.host.clock.now();
  }

  start(): void {
    const config = this.host.config()!;
    const id = randomId("ct-", 10);
    // The row goes in now, synchronously: the next reconcile counts this
    // container as starting, so one burst asks for each container once.
    this.store.containers.add({ id, deploymentId: config.deploymentId, secret: "", now: this.now() });
    const gate = this.host.startGate;
    const launch = async (): Promise<void> => {
      gate.requested();
      try {
        const key = signingKey(this.host.env);
        const secret = await containerSecret(key, config.deploymentId, id);
        this.store.containers.setSecret(id, secret);
        try {
          await this.backend.start(id, {
            SQUALL_CONTAINER_ID: id,
            SQUALL_CONTAINER_SECRET: secret,
            SQUALL_URL: config.publicUrl,
            SQUALL_TOKEN: await containerToken(key, config.workspaceId),
            SQUALL_APP: config.appName,
            SQUALL_FUNCTION: config.functionName,
          });
        } finally {
          gate.settled();
        }
        gate.platformAccepted();
        await this.connect(id, secret);
      } catch (err) {
        // Asked before stopping it: a stop would itself make it exit.
        const failure = this.stillStarting(id) ? await classifyStartError(err, () => this.backend.describeExit(id)) : null;
        void this.backend.stop(id).catch(() => undefined);
        // The pool stopped it meanwhile (startup timeout, deploy, app stop): not a failure to start.
        if (!failure || !this.stillStarting(id)) return;
        this.store.containers.remove(id);
        if (failure.kind === "container") this.host.startFailed(id, failure.message);
        else {
          const line = gate.platformFailed(failure, this.now());
          if (line) this.log(id, line);
        }
      }
      // A slot for another start request is free.
      this.host.reconcile();
    };
    this.host.waitUntil(launch());
  }

  private stillStarting(id: string): boolean {
    return this.store.containers.all().some((c) => c.id === id && c.state === "starting");
  }

  async connect(id: string, secret: string): Promise<void> {
    const ws = await this.backend.connect(id, secret);
    if (!this.stillStarting(id)) {
      // Stopped while it was starting (app stop, deploy): let it go.
      ws.close(1000, "no longer wanted");
      await this.backend.stop(id).catch(() => undefined);
      return;
    }
    this.attach(id, ws);
    this.sendInit(id);
  }

  private sendInit(id: string): void {
    const config = this.host.config()!;
    this.send(id, {
      t: "init",
      containerId: id,
      deploymentId: config.deploymentId,
      bundleUrl: `${config.publicUrl}${pathOf(ROUTES.bundle, { deploymentId: config.deploymentId })}?container=${encodeURIComponent(id)}`,
      target:
        config.kind === "class" && config.params !== null
          ? { kind: "class", name: config.functionName, params: base64urlToBytes(config.params) }
          : { kind: "function", name: config.functionName },
      maxInputs: config.options.maxInputs,
    });
  }

  attach(id: string, ws: WebSocket): void {
    this.connections.set(id, { ws, lastSeenMs: this.now(), resyncSinceMs: null, acks: [] });
    // Binary frames as ArrayBuffers (newer compatibility dates default to Blob).
    (ws as WebSocket & { binaryType: string }).binaryType = "arraybuffer";
    ws.addEventListener("message", (event) => {
      this.host.settle();
      const conn = this.connections.get(id);
      if (!conn || conn.ws !== ws) return;
      conn.lastSeenMs = this.now();
      // ArrayBuffer frames (binaryType above) are decoded and handled in this turn: no promise hop per frame.
      const handle = (bytes: Uint8Array): void => {
        let message: RunnerToPool;
        try {
          message = (decodeSimpleMap(bytes, RUNNER_FRAME_KEYS) ?? decode(bytes)) as RunnerToPool;
        } catch {
          console.warn(`container ${id} sent a frame that is not CBOR; ignored`);
          return;
        }
        this.onRunnerMessage(id, message).catch((err: unknown) => {
          // Unacknowledged outputs stay with the runner, which sends them again on its next connection.
          console.error(`pool ${this.host.config()?.functionName ?? ""}: a message from container ${id} failed: ${(err as Error).message}`);
        });
      };
      const bytes = frameBytesNow(event.data);
      if (bytes) handle(bytes);
      else void (event.data as Blob).arrayBuffer().then((b) => handle(new Uint8Array(b)));
    });
    const onClose = (): void => {
      const conn = this.connections.get(id);
      if (conn && conn.ws === ws) void this.lost(id, "its connection closed");
    };
    ws.addEventListener("close", onClose);
    ws.addEventListener("error", onClose);
  }

  send(id: string, message: PoolToRunner): void {
    this.sendFrame(id, encode(message));
  }

  private sendFrame(id: string, frame: Uint8Array): void {
    const conn = this.connections.get(id);
    if (!conn) return;
    try {
      conn.ws.send(frame);
    } catch {
      void this.lost(id, "sending to it failed");
    }
  }

  acknowledge(id: string, inputIds: number[]): void {
    const conn = this.connections.get(id);
    if (!conn) return;
    conn.acks.push(...inputIds);
    if (conn.acks.length >= MAX_PENDING_ACKS) this.sendAcks(conn);
    else
      this.ackTimer ??= setTimeout(() => {
        this.ackTimer = null;
        for (const c of this.connections.values()) this.sendAcks(c);
      }, ACK_INTERVAL_MS);
  }

  private sendAcks(conn: Connection): void {
    if (conn.acks.length === 0) return;
    const ids = conn.acks;
    conn.acks = [];
    try {
      conn.ws.send(encode({ t: "ack", ids } satisfies PoolToRunner));
    } catch {
      // Closing: the runner sends them again to the next connection, which finds them stored.
    }
  }

  sendInputs(id: string, inputs: readonly FrameInput[]): void {
    for (const batch of chunkBySize(inputs, (i) => i.args.byteLength, MAX_INPUT_FRAME_BYTES)) {
      this.sendFrame(id, inputsFrame(batch));
    }
  }

  private async onRunnerMessage(id: string, message: RunnerToPool): Promise<void> {
    switch (message.t) {
      case "ready": {
        const conn = this.connections.get(id);
        if (conn?.resyncSinceMs != null) {
          conn.resyncSinceMs = null;
          this.resync(id, message.holding, message.running ?? []);
        }
        this.host.startGate.ready();
        const now = this.now();
        const started = this.store.containers.all().find((c) => c.id === id && c.state === "starting");
        this.host.ready(id, started ? now - started.startedAt : null);
        this.store.containers.markReady(id, now);
        this.host.loadChanged();
        return;
      }
      case "init_failed":
        this.host.startFailed(id, `${message.error.name}: ${message.error.message}`, message.error);
        await this.stop(id, true);
        this.host.reconcile();
        return;
      case "outputs": {
        const config = this.host.config();
        if (!config) return;
        // Before the outputs: a started input's output can come in the same frame.
        if (message.started?.length) this.store.markStarted(id, message.started, this.now() + config.options.timeoutMs);
        if (message.outputs.length === 0) return;
        const held = this.host.outputs(id, message.outputs);
        // Stale ones too: the runner holds every output until told the pool has it. Held ones are acknowledged once stored.
        const stored = held.length === 0 ? message.outputs : message.outputs.filter((o) => !held.includes(o.id));
        if (stored.length === 0) return;
        this.acknowledge(
          id,
          stored.map((o) => o.id),
        );
        this.host.loadChanged();
        return;
      }
      case "items":
        if (this.host.config()) this.host.items(id, message.items);
        return;
      case "logs":
        this.onLogs(id, message.lines);
        return;
      case "heartbeat":
        return;
    }
  }

  /**
   * A container reconnected after this pool restarted: inputs stored as
   * running on it that it does not hold never reached it (the pool went down
   * between storing and sending), so they go back to the queue. Those it
   * finished while the pool was down arrive as outputs it re-sends.
   */
  resync(id: string, holding: readonly number[], started: readonly number[]): void {
    const held = new Set(holding);
    const now = this.now();
    let missing = 0;
    for (const input of this.store.runningOn(id)) {
      if (held.has(input.id)) continue;
      this.store.requeue(input, now, {});
      missing++;
    }
    if (missing > 0) this.store.containers.addRunning(id, -missing, now);
    // Sent ahead and started while this pool was away (their `started` may have been lost with it).
    const timeoutMs = this.host.config()?.options.timeoutMs;
    if (timeoutMs !== undefined && started.length > 0) this.store.markStarted(id, started, now + timeoutMs);
  }

  private onLogs(containerId: string, lines: LogLine[]): void {
    this.store.telemetry.appendLogs(
      lines.map((l) => ({
        ts: l.ts,
        containerId,
        callId: l.inputId === undefined ? null : this.store.callIdOfInput(l.inputId),
        stream: l.stream,
        text: l.text,
      })),
    );
  }

  /**
   * A line about starting containers, in the app's logs (`squall logs`) under
   * the container it concerns: where the app's owner looks, and bounded (the
   * log keeps a tail), unlike the platform's console for a pool that retries
   * for minutes.
   */
  log(containerId: string, text: string): void {
    this.store.telemetry.appendLogs([{ ts: this.now(), containerId, callId: null, stream: "stderr", text: `[squall] ${text}` }]);
  }

  async lost(id: string, reason: string): Promise<void> {
    const row = this.store.containers.all().find((c) => c.id === id);
    this.connections.delete(id);
    this.drainingIds.delete(id);
    if (!row || row.state === "stopping") return;
    this.store.containers.setState(id, "stopping");
    // Outputs it sent that were answered early are its inputs' ends, not losses (and this container takes no more).
    this.host.settle();
    const exit = await this.exitOf(id);
    const why = exit ? `${reason}; the container ${exit}` : reason;
    if (row.state === "starting") this.host.startFailed(id, `container stopped before it was ready: ${why}`);
    const now = this.now();
    for (const input of this.store.runningOn(id)) {
      // Sent ahead and never started: the loss is not its own (it may have waited behind the input that killed the container).
      if (!input.started) {
        this.store.requeue(input, now, {});
        continue;
      }
      if (input.losses + 1 >= limits.MAX_CONTAINER_LOSSES) {
        const value = encode({
          name: "RemoteError",
          message: `the container running this input stopped unexpectedly ${input.losses + 1} times (last: ${why})`,
        });
        this.host.finish(input, "platform_error", value, now);
      } else {
        this.store.requeue(input, now, { loss: true });
      }
    }
    this.store.containers.remove(id);
    await this.backend.stop(id).catch(() => undefined);
    this.host.loadChanged();
  }

  /** Why a container went away. Its connection can close a moment before its process is seen to exit, so ask a few times. */
  private async exitOf(id: string): Promise<string | null> {
    for (let attempt = 0; attempt < EXIT_INFO_ATTEMPTS; attempt++) {
      const exit = await this.backend.describeExit(id).catch(() => null);
      if (exit) return exit;
      await new Promise((r) => setTimeout(r, EXIT_INFO_INTERVAL_MS));
    }
    return null;
  }

  async stop(id: string, requeue: boolean): Promise<void> {
    const row = this.store.containers.all().find((c) => c.id === id);
    this.drainingIds.delete(id);
    if (!row) return;
    this.store.containers.setState(id, "stopping");
    // Outputs answered early are stored first: they are not put back to run again.
    this.host.settle();
    if (requeue) {
      const now = this.now();
      for (const input of this.store.runningOn(id)) this.store.requeue(input, now, {});
    }
    this.send(id, { t: "shutdown" });
    const conn = this.connections.get(id);
    this.connections.delete(id);
    try {
      conn?.ws.close(1000, "stopped by pool");
    } catch {
      // already closed
    }
    await this.backend.stop(id).catch(() => undefined);
    this.store.containers.remove(id);
  }

  async recover(): Promise<void> {
    for (const c of this.store.containers.all()) {
      if (this.connections.has(c.id)) continue;
      if (c.state === "stopping") {
        await this.backend.stop(c.id).catch(() => undefined);
        this.store.containers.remove(c.id);
        continue;
      }
      try {
        const ws = await this.backend.connect(c.id, c.secret);
        this.attach(c.id, ws);
        this.connections.get(c.id)!.resyncSinceMs = this.now();
        if (this.host.config()) this.sendInit(c.id);
      } catch {
        await this.lost(c.id, "the pool restarted and could not reach it again");
      }
    }
    this.host.loadChanged();
  }

  drain(id: string): void {
    this.drainingIds.add(id);
  }

  draining(id: string): boolean {
    return this.drainingIds.has(id);
  }

  accepting(id: string): boolean {
    return !this.drainingIds.has(id) && this.connections.get(id)?.resyncSinceMs === null;
  }

  async checkLiveness(now: number): Promise<void> {
    const startupTimeoutMs = this.host.startupTimeoutMs();
    for (const c of this.store.containers.all()) {
      const conn = this.connections.get(c.id);
      const silentMs = conn ? now - conn.lastSeenMs : 0;
      if (conn && c.state === "ready" && c.running === 0 && silentMs > HEARTBEAT_TIMEOUT_MS) {
        await this.lost(c.id, `no heartbeat for ${Math.round(silentMs / 1000)} s`);
        continue;
      }
      if (conn && c.state === "ready" && c.running > 0 && silentMs > BUSY_PROBE_SILENCE_MS) {
        const exit = await this.backend.describeExit(c.id).catch(() => null);
        if (exit !== null) {
          await this.lost(c.id, `no heartbeat for ${Math.round(silentMs / 1000)} s`);
          continue;
        }
      }
      if (conn?.resyncSinceMs != null && now - conn.resyncSinceMs > startupTimeoutMs) {
        await this.lost(c.id, `it did not answer within ${startupTimeoutMs / 1000} s after the pool reconnected`);
        continue;
      }
      if (c.state === "starting" && now - c.startedAt >= startupTimeoutMs) {
        this.host.startFailed(c.id, `container did not become ready within ${startupTimeoutMs / 1000} s (startupTimeoutMs)`);
        await this.stop(c.id, true);
      }
    }
  }

  clear(): void {
    this.connections.clear();
    if (this.ackTimer !== null) clearTimeout(this.ackTimer);
    this.ackTimer = null;
  }
}

/** A frame's bytes, or null for a Blob (read asynchronously). */
function frameBytesNow(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof Blob) return null;
  return new TextEncoder().encode(String(data));
}

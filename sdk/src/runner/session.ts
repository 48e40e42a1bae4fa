// The runner's state across pool connections: what it was initialized with,
// the inputs it runs, and the one pool connection it answers on. Inputs keep
// running when the connection drops; their outputs wait for the next one.
import type { WebSocket } from "ws";
import type { InitMessage, PoolToRunner, RunnerInput, RunnerToPool } from "../wire/protocol.js";
import { HEARTBEAT_INTERVAL_MS } from "../wire/protocol.js";
import { decode, encode, serializeError } from "../wire/serialization.js";
import { loadBundle, targetOf, type LoadedBundle } from "./loader.js";
import { invoke, type Outcome, type StreamSink } from "./invoke.js";
import { StreamCredits } from "./stream-credits.js";
import { Outbox } from "./outbox.js";
import { runnerLog } from "./console-capture.js";
import { ThreadPool, runsOnThreads } from "./threads.js";
import { batchedExecutor } from "./batched.js";
import { concurrentBatches, resolveOptions } from "../wire/options.js";

export interface SessionOptions {
  containerId: string;
  secret: string;
  appName?: string;
  /** Called when the pool sends `shutdown`. */
  onShutdown: () => void;
}

/** The close code for a connection a newer pool connection replaced (4000-4999: application codes). */
const REPLACED_CLOSE_CODE = 4000;

interface InitState {
  deploymentId: string;
  maxInputs: number;
  target: Promise<Executor>;
}

/** Runs one input of the loaded target: on this thread, or (synchronous code with maxInputs > 1) on a worker thread. */
type Executor = (input: RunnerInput, sink: StreamSink) => Promise<Outcome>;

export class RunnerSession {
  readonly outbox = new Outbox();
  /** How far each generator input may run ahead of its reader. */
  private readonly credits = new StreamCredits();
  private ws: WebSocket | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private init: InitState | null = null;
  /** Inputs started and not finished, by id. */
  private readonly running = new Map<number, Promise<void>>();
  /** Inputs received beyond maxInputs, started as slots free up. */
  private queue: RunnerInput[] = [];
  /** Queued inputs that found every slot taken when they arrived: the pool hears when each starts. */
  private readonly waiting = new Set<number>();
  /** Running inputs the pool cancelled: their results are dropped. */
  private readonly cancelled = new Set<number>();
  private closing = false;
  /** The worker threads of a synchronous function, or of a class with a synchronous method, with maxInputs > 1. */
  private threads: ThreadPool | null = null;

  constructor(private readonly options: SessionOptions) {}

  /** Makes `ws` the pool connection, closing any previous one. */
  attach(ws: WebSocket): void {
    const previous = this.ws;
    this.ws = ws;
    if (previous) previous.close(REPLACED_CLOSE_CODE, "replaced by a newer pool connection");
    ws.on("message", (data, isBinary) => {
      if (this.ws !== ws) return;
      if (!isBinary) return runnerLog("ignored a text frame from the pool (the protocol is binary CBOR)");
      let message: PoolToRunner;
      try {
        message = decode<PoolToRunner>(data as Buffer);
      } catch (err) {
        return runnerLog(`ignored a frame that is not CBOR: ${(err as Error).message}`);
      }
      this.onMessage(message);
    });
    ws.on("close", () => {
      if (this.ws === ws) this.detach();
    });
    ws.on("error", (err) => runnerLog(`pool connection error: ${err.message}`));
    this.outbox.setSend((m) => this.sendOn(ws, m));
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => void this.sendOn(ws, { t: "heartbeat", running: this.runningCount() }).catch(() => undefined), HEARTBEAT_INTERVAL_MS);
  }

  /** Waits (unbounded: the caller bounds it) for running inputs, sends their outputs, and closes the connection. */
  async drain(): Promise<void> {
    this.closing = true;
    this.queue = [];
    this.waiting.clear();
    await Promise.allSettled([...this.running.values()]);
    await this.threads?.close();
    await this.outbox.flush();
    this.ws?.close(1000, "runner shutting down");
  }

  /** Inputs the pool still expects results for (running or queued here). */
  runningCount(): number {
    return this.running.size - this.cancelled.size + this.queue.length;
  }

  private detach(): void {
    this.ws = null;
    this.outbox.setSend(null);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private sendOn(ws: WebSocket, message: RunnerToPool): Promise<void> {
    return new Promise((resolve, reject) => {
      if (ws.readyState !== ws.OPEN) return reject(new Error("the pool connection is not open"));
      ws.send(encode(message), (err) => (err ? reject(err) : resolve()));
    });
  }

  private onMessage(message: PoolToRunner): void {
    switch (message.t) {
      case "init":
        return void this.onInit(message);
      case "inputs":
        return this.onInputs(message.inputs);
      case "cancel":
        return this.onCancel(message.ids);
      case "ack":
        return this.outbox.acknowledge(message.ids);
      case "stream_grants":
        this.outbox.itemsStored(message.grants);
        return this.credits.grant(message.grants);
      case "shutdown":
        return this.options.onShutdown();
      default:
        runnerLog(`ignored an unknown message from the pool: ${JSON.stringify((message as { t?: unknown }).t)}`);
    }
  }

  private async onInit(message: InitMessage): Promise<void> {
    const ws = this.ws;
    const reply = (m: RunnerToPool): Promise<void> => (ws ? this.sendOn(ws, m).catch(() => undefined) : Promise.resolve());
    const fail = (err: unknown): Promise<void> => reply({ t: "init_failed", error: serializeError(err) });
    const { containerId } = this.options;
    if (message.containerId !== containerId) {
      return fail(new Error(`this runner is container ${containerId}, not ${message.containerId}`));
    }
    if (this.init && this.init.deploymentId !== message.deploymentId) {
      return fail(new Error(`this container already runs deployment ${this.init.deploymentId}, not ${message.deploymentId}`));
    }
    // A reconnecting pool may send init again: the first load's result answers it.
    if (!this.init) {
      const maxInputs = Math.max(1, message.maxInputs);
      const target = loadBundle(message, { secret: this.options.secret, appName: this.options.appName }).then((b) => this.executorFor(b, message, maxInputs));
      target.catch(() => undefined); // observed below and by every input; never unhandled
      this.init = { deploymentId: message.deploymentId, maxInputs, target };
    }
    try {
      await this.init.target;
    } catch (err) {
      return fail(err);
    }
    // Output printed while loading (imports, enter()) goes out before the pool starts sending inputs.
    await this.outbox.flush();
    await reply({ t: "ready", containerId, holding: this.holding(), running: [...this.running.keys()].filter((id) => !this.cancelled.has(id)) });
  }

  /** Inputs this runner still has: running (not cancelled), queued, or with an output the pool has not acknowledged. */
  private holding(): number[] {
    const ids = new Set<number>(this.outbox.heldIds());
    for (const id of this.running.keys()) if (!this.cancelled.has(id)) ids.add(id);
    for (const q of this.queue) ids.add(q.id);
    return [...ids];
  }

  private onInputs(inputs: RunnerInput[]): void {
    if (this.closing) return; // the pool re-queues what a stopping container had
    for (const input of inputs) {
      if (this.running.has(input.id) || this.queue.some((q) => q.id === input.id)) continue; // a re-sent input
      this.queue.push(input);
    }
    this.pump();
    for (const q of this.queue) this.waiting.add(q.id);
  }

  /**
   * Starts queued inputs while slots are free. A cancelled input's code on
   * this thread cannot be stopped (on a worker thread it is: the thread is
   * terminated), but it no longer holds a slot: the pool counts the slot free
   * as soon as it cancels, and fills it.
   */
  private pump(): void {
    const limit = this.init?.maxInputs ?? 1;
    while (!this.closing && this.queue.length > 0 && this.running.size - this.cancelled.size < limit) this.start(this.queue.shift()!);
  }

  private start(input: RunnerInput): void {
    if (this.waiting.delete(input.id)) this.outbox.addStarted(input.id);
    const task = this.execute(input)
      .then((outcome) => {
        if (!this.cancelled.delete(input.id)) this.outbox.addOutput({ id: input.id, ...outcome });
      })
      .finally(() => {
        this.running.delete(input.id);
        this.credits.close(input.id);
        this.pump();
      });
    this.running.set(input.id, task);
  }

  private async execute(input: RunnerInput): Promise<Outcome> {
    if (!this.init) return { status: "failure", value: encode(serializeError(new Error("the runner received inputs before init"))) };
    let executor: Executor;
    try {
      executor = await this.init.target;
    } catch (err) {
      return { status: "failure", value: encode(serializeError(new Error(`the container failed to initialize: ${(err as Error).message}`))) };
    }
    try {
      const sink: StreamSink = {
        credit: (seq) => this.credits.waitFor(input.id, seq),
        emit: (seq, value) => this.outbox.addItem({ id: input.id, seq, value }),
      };
      return await executor(input, sink);
    } catch (err) {
      // invoke() turns every user error into an output; this is the runner's own failure (e.g. a thread it could not reach).
      return { status: "failure", value: encode(serializeError(new Error(`the runner could not run this input: ${(err as Error).message}`, { cause: err }))) };
    }
  }

  /**
   * Async functions and classes whose methods are all async run here, as
   * tasks on this event loop. A synchronous function, or a class with a
   * synchronous method, that may run more than one input at once runs each
   * input on a worker thread of its own (see threads.ts).
   */
  private async executorFor(bundle: LoadedBundle, init: InitMessage, maxInputs: number): Promise<Executor> {
    const { registered, bundleFile } = bundle;
    const params = init.target.kind === "class" ? init.target.params : undefined;
    // A batched function runs on this thread: its batches are its parallelism (the pool's maxInputs counts inputs, not batches).
    const options = resolveOptions(registered.name, registered.options);
    if (options.batched) {
      const target = await targetOf(registered, params, bundleFile);
      return batchedExecutor(target, { ...options.batched, maxConcurrentBatches: concurrentBatches(options) });
    }
    if (runsOnThreads(registered, maxInputs)) {
      const threads = new ThreadPool({
        bundleFile,
        name: registered.name,
        params,
        appName: this.options.appName,
        size: maxInputs,
        log: (line) => this.outbox.addLog(line),
      });
      this.threads = threads;
      // A class's constructor and enter() run in its threads: the first one's failure is the init's.
      if (registered.kind === "class") await threads.warm();
      return (input) => threads.run(input);
    }
    const target = await targetOf(registered, params, bundleFile);
    return (input, sink) => invoke(target, input, sink);
  }

  private onCancel(ids: number[]): void {
    const cancel = new Set(ids);
    this.queue = this.queue.filter((q) => !cancel.has(q.id));
    for (const id of cancel) this.waiting.delete(id);
    for (const id of cancel) {
      if (!this.running.has(id)) continue;
      this.cancelled.add(id);
      this.credits.cancel(id); // a generator waiting for credit is ended now, its finally blocks run
      this.threads?.cancel(id); // code on a worker thread can be stopped: its thread goes
    }
    this.outbox.discardOutputs(cancel);
    this.pump();
  }
}

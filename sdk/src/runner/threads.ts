// Input concurrency for synchronous code (README "Synchronous code and threads"). An async
// function's inputs run as concurrent tasks on the runner's event loop, but a
// synchronous one would run them one after another there. So when a
// container may run more than one input at once (maxInputs > 1), each input of
// a synchronous function, or of a class with a synchronous method, runs on a
// worker thread of its own, as Modal runs them on separate threads.
//
// - Which is which: `async function` and `async function*` (by their
//   constructor's name) run on the event loop; any other function, including
//   a plain one that returns a Promise, runs on threads. A class runs on
//   threads as a whole when any of its remote methods is synchronous (then
//   its async methods run there too, one input per thread), so one instance
//   never sees only some of its methods' inputs.
// - Threads are created lazily, up to maxInputs, and reused. Each is its own
//   V8 isolate that imports the same bundle file (the app's top level runs
//   once per thread) and calls the function by name (runner/thread.ts). So
//   module state (caches, counters) is per thread, never shared: that is what
//   "thread-safe" means here. A class gets one instance per thread, built
//   from the container's params, with its own enter(): Python threads would
//   share one instance, Node threads cannot. Each thread costs memory (its
//   own heap and copy of the app, and its instance's enter() state), so keep
//   maxInputs of CPU-bound code near the CPU count.
// - A class's first thread is started at init, so a constructor or enter()
//   that throws fails the container's init as it does on the main thread.
// - Arguments, results, errors and console output go through the same code as
//   on the main thread; log lines keep the id of the input that printed them.
// - A cancelled input's thread is terminated (its code really stops) and
//   replaced on demand (for a class: a new instance, entered again).
// - A thread that dies by itself (process.exit() in user code, an uncaught
//   exception) takes the runner with it, as it would on the main thread: the
//   pool then treats it as a lost container.
// - Async functions, classes whose methods are all async, and anything with
//   maxInputs 1 stay on the main thread (one class instance per container).
import { Worker } from "node:worker_threads";
import type { LogLine, RunnerInput } from "../wire/protocol.js";
import type { Registered } from "../registry.js";
import type { SerializedError } from "../wire/serialization.js";
import { encode } from "../wire/serialization.js";
import type { Outcome } from "./invoke.js";
import { runnerLog } from "./console-capture.js";

/** What a thread is started with (its workerData). */
export interface ThreadData {
  bundleFile: string;
  /** The function's or class's name in the app bundle. */
  name: string;
  /** A class's constructor params (CBOR); absent for a function. */
  params?: Uint8Array;
  appName?: string;
}

export interface MainToThread {
  id: number;
  args: Uint8Array;
  /** The method an input of a class calls. */
  method?: string;
}

export type ThreadToMain =
  | { t: "ready" }
  | { t: "init_failed"; error: SerializedError }
  | { t: "log"; line: LogLine }
  | { t: "done"; id: number; status: Outcome["status"]; value: Uint8Array };

export interface ThreadPoolOptions extends ThreadData {
  /** Most threads at once: the container's maxInputs. */
  size: number;
  /** Receives console output of user code in the threads. */
  log: (line: LogLine) => void;
}

/** True for functions that run as tasks on an event loop: `async function` and `async function*`. */
export function isAsyncFunction(fn: unknown): boolean {
  const kind = (fn as { constructor?: { name?: string } } | null)?.constructor?.name;
  return kind === "AsyncFunction" || kind === "AsyncGeneratorFunction";
}

/** Whether a container serving `registered` with this maxInputs runs its inputs on worker threads. */
export function runsOnThreads(registered: Registered, maxInputs: number): boolean {
  if (maxInputs <= 1) return false;
  if (registered.kind === "function") return !isAsyncFunction(registered.fn);
  const proto = registered.cls.prototype as Record<string, unknown>;
  return registered.methods.some((method) => !isAsyncFunction(proto[method]));
}

const THREAD_URL = new URL("./thread.js", import.meta.url);

interface Thread {
  worker: Worker;
  /** Resolves once the thread has imported the bundle; rejects with why it could not. */
  ready: Promise<void>;
  /** The input it runs, if any. */
  current: { id: number; done: (outcome: Outcome) => void } | null;
  /** Set when the pool ends the thread (cancel, close): its exit is expected. */
  ending: boolean;
}

export class ThreadPool {
  private readonly idle: Thread[] = [];
  private readonly threads = new Set<Thread>();
  /** Inputs waiting for a thread (only while more than `size` are running, which the session does not do). */
  private readonly waiting: Array<(thread: Thread) => void> = [];
  private closed = false;

  constructor(private readonly options: ThreadPoolOptions) {}

  /** Starts one thread and waits until it is ready; throws why it could not load (the container's init fails with it). */
  async warm(): Promise<void> {
    const thread = await this.acquire();
    try {
      await thread.ready;
    } catch (err) {
      this.discard(thread);
      throw err;
    }
    this.release(thread);
  }

  /** Runs one input on a thread of its own; resolves with its outcome. */
  async run(input: RunnerInput): Promise<Outcome> {
    const thread = await this.acquire();
    try {
      await thread.ready;
    } catch (err) {
      this.discard(thread);
      return failure(`a worker thread could not load ${this.options.name}: ${(err as Error).message}`, err);
    }
    return new Promise<Outcome>((resolve) => {
      thread.current = {
        id: input.id,
        done: (outcome) => {
          thread.current = null;
          this.release(thread);
          resolve(outcome);
        },
      };
      // A copy of just these bytes (args may be a view into a whole frame, or a
      // Buffer whose slice() shares memory), moved rather than cloned.
      const args = new Uint8Array(input.args);
      try {
        thread.worker.postMessage({ id: input.id, args, method: input.method } satisfies MainToThread, [args.buffer as ArrayBuffer]);
      } catch (err) {
        thread.current = null;
        this.discard(thread);
        resolve(failure(`the input could not be handed to a worker thread: ${(err as Error).message}`, err));
      }
    });
  }

  /** Stops the thread running input `id`, if one is: its result would be dropped anyway. */
  cancel(id: number): void {
    for (const thread of this.threads) {
      if (thread.current?.id !== id) continue;
      const { done } = thread.current;
      thread.current = null;
      this.discard(thread);
      done({ status: "failure", value: encode({ name: "InputCancellation", message: "the input was cancelled" }) });
    }
  }

  /** Terminates every thread. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.threads];
    this.threads.clear();
    this.idle.length = 0;
    await Promise.allSettled(
      all.map((t) => {
        t.ending = true;
        return t.worker.terminate();
      }),
    );
  }

  private acquire(): Promise<Thread> {
    const thread = this.idle.pop();
    if (thread) return Promise.resolve(thread);
    if (this.threads.size < this.options.size) return Promise.resolve(this.spawn());
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(thread: Thread): void {
    if (!this.threads.has(thread)) return this.fillWaiting();
    const next = this.waiting.shift();
    if (next) next(thread);
    else this.idle.push(thread);
  }

  /** A thread went away: someone waiting for one gets a new one. */
  private fillWaiting(): void {
    if (this.closed) return;
    while (this.waiting.length > 0 && this.threads.size < this.options.size) this.waiting.shift()!(this.spawn());
  }

  private discard(thread: Thread): void {
    if (!this.threads.delete(thread)) return;
    const at = this.idle.indexOf(thread);
    if (at >= 0) this.idle.splice(at, 1);
    thread.ending = true;
    void thread.worker.terminate();
    this.fillWaiting();
  }

  private spawn(): Thread {
    const { bundleFile, name, params, appName } = this.options;
    const worker = new Worker(THREAD_URL, { workerData: { bundleFile, name, params, appName } satisfies ThreadData });
    let markReady!: () => void;
    let markFailed!: (err: Error) => void;
    const thread: Thread = {
      worker,
      ready: new Promise<void>((resolve, reject) => {
        markReady = resolve;
        markFailed = reject;
      }),
      current: null,
      ending: false,
    };
    thread.ready.catch(() => undefined); // observed by run()
    let loaded = false;
    let uncaught: unknown = null;
    worker.on("message", (message: ThreadToMain) => {
      switch (message.t) {
        case "ready":
          loaded = true;
          return markReady();
        case "init_failed":
          return markFailed(Object.assign(new Error(`${message.error.name}: ${message.error.message}`), { serialized: message.error }));
        case "log":
          return this.options.log(message.line);
        case "done":
          if (thread.current?.id === message.id) thread.current.done({ status: message.status, value: message.value });
          return;
      }
    });
    worker.on("error", (err) => {
      uncaught = err;
    });
    worker.on("exit", (code) => {
      this.threads.delete(thread);
      markFailed(uncaught instanceof Error ? uncaught : new Error(`the thread exited with code ${code} while loading the app bundle`));
      // Ended by the pool, or while loading (run() reports that as the input's failure): nothing more to do.
      if (thread.ending || this.closed || !loaded) return this.fillWaiting();
      exitWithThread(name, code, uncaught);
    });
    this.threads.add(thread);
    return thread;
  }
}

/**
 * A thread that ended by itself takes the runner with it, as the same code on
 * the main thread would: the pool sees a lost container and re-queues its inputs.
 */
function exitWithThread(name: string, code: number, error: unknown): never {
  const exitCode = code || (error ? 1 : 0);
  if (error) console.error("Uncaught exception in a worker thread:", error);
  runnerLog(`a worker thread running ${name} ended (${error ? "uncaught exception" : `process.exit(${code})`}): the runner exits with code ${exitCode}`);
  process.exit(exitCode);
}

function failure(message: string, cause: unknown): Outcome {
  const serialized = (cause as { serialized?: SerializedError } | null)?.serialized;
  const cbor = serialized ?? (cause instanceof Error ? { name: cause.name, message: cause.message, stack: cause.stack } : undefined);
  return { status: "failure", value: encode({ name: "Error", message, ...(cbor ? { cause: cbor } : {}) }) };
}

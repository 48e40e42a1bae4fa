// The map engine: streams inputs from any (async) iterable into one map call
// and its outputs back, with memory bounded however many inputs there are.
//
// At most MAP_MAX_IN_FLIGHT inputs are pulled but not yet handed to the
// caller. That one bound caps what the platform holds for this map (sent,
// no output yet), what waits here to be yielded, and — with orderOutputs —
// the reorder buffer.
import type { CreateCallRequest, GetOutputsResponse, InputItem } from "./wire/api.js";
import { InvalidError, RemoteError, UserCodeException } from "./errors.js";
import { httpOf, withRetries, type Http } from "./http.js";
import { channelsOf, type CallChannels } from "./channel.js";
import { progressListened, reportProgress, sizeOf, type MapProgress } from "./progress.js";
import {
  LONG_POLL_MS,
  MAX_ARGS_BYTES,
  channelPathOf,
  checkArgsSize,
  checkSerializable,
  encodeArgs,
  encodeChecked,
  outcomeOf,
  targetFields,
  type CallTarget,
  type ResolveTarget,
} from "./calls.js";
import { ROUTES } from "./wire/routes.js";

export const MAP_MAX_IN_FLIGHT = 1_000;
/** Inputs per request; the API takes up to 1 000. */
export const MAP_BATCH_SIZE = 500;
/**
 * Serialized arguments per request. The API takes bodies up to 32 MiB, so a
 * batch closes once it might not fit one more input of MAX_ARGS_BYTES.
 */
export const MAP_BATCH_BYTES = 24 * 1024 * 1024;

/** Whether a batch holding `bytes` of arguments must go out before another input could overflow it. */
export function batchIsFull(count: number, bytes: number): boolean {
  return count >= MAP_BATCH_SIZE || bytes + MAX_ARGS_BYTES > MAP_BATCH_BYTES;
}
/** A partial batch goes out once the source has made us wait this long. */
const FLUSH_AFTER_MS = 20;

export interface MapOptions {
  /** Yield outputs in input order (default true); false yields each as it completes. */
  orderOutputs?: boolean;
  /**
   * Put failures into the stream instead of throwing (default false). Without
   * it, the first failed input's error is thrown itself (the remote error
   * rebuilt as its class, or FunctionTimeoutError, InputCancellation, …).
   */
  returnExceptions?: boolean;
  /**
   * With returnExceptions: wrap a remote throw in a UserCodeException whose
   * `cause` is the remote error (default true), or yield the rebuilt remote error itself (false).
   */
  wrapReturnedExceptions?: boolean;
}

/** The name of the property that says which input of a map an error came from. */
const INPUT_INDEX = "squallInputIndex";

/** Marks an error from a map with its input's position (0-based, in the order the inputs were given). */
function markInput(err: Error, idx: number): Error {
  try {
    Object.defineProperty(err, INPUT_INDEX, { value: idx, enumerable: false, writable: true, configurable: true });
  } catch {
    // An error object that refuses new properties still reaches the caller.
  }
  return err;
}

/**
 * Which input of a map (or starmap, forEach) an error came from: its position
 * among the inputs, from 0; undefined for an error that did not come from one input.
 */
export function failedInputIndex(err: unknown): number | undefined {
  if (err === null || typeof err !== "object") return undefined;
  const idx = (err as Record<string, unknown>)[INPUT_INDEX];
  return typeof idx === "number" ? idx : undefined;
}

export type Inputs<T> = Iterable<T> | AsyncIterable<T>;

/** The outputs of a map: iterate once with for-await, or collect with toArray(). Breaking out early cancels the call. */
export class MapStream<R> implements AsyncIterable<R> {
  #run: (() => AsyncGenerator<R>) | null;

  constructor(run: () => AsyncGenerator<R>) {
    this.#run = run;
  }

  [Symbol.asyncIterator](): AsyncIterator<R> {
    const run = this.#run;
    if (!run) throw new InvalidError("this map has already been iterated; call map() again to run it again");
    this.#run = null;
    return run();
  }

  async toArray(): Promise<R[]> {
    const out: R[] = [];
    for await (const item of this) out.push(item);
    return out;
  }
}

export interface MapSpec {
  /** How the call reads in messages, e.g. `evaluateModel.map()`. */
  call: string;
  resolve: ResolveTarget;
  inputs: Inputs<unknown>;
  /** starmap: each item is the argument list; map: each item is the only argument. */
  spread: boolean;
  options: MapOptions;
}

export function checkIterable(call: string, inputs: unknown): void {
  const o = inputs as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown } | null | undefined;
  if (o == null || (typeof o[Symbol.iterator] !== "function" && typeof o[Symbol.asyncIterator] !== "function")) {
    throw new InvalidError(`${call} takes an iterable or async iterable of inputs, got ${o === null ? "null" : typeof o}`);
  }
}

export function toAsyncIterator<T>(inputs: Inputs<T>): AsyncIterator<T> {
  if (Symbol.asyncIterator in inputs) return inputs[Symbol.asyncIterator]();
  const it = inputs[Symbol.iterator]();
  return {
    next: async () => it.next(),
    return: async (value?: unknown) => it.return?.(value) ?? { done: true, value: undefined },
  };
}

/** CBOR of one item's argument list. */
export function encodeItem(call: string, idx: number, item: unknown, spread: boolean): Uint8Array {
  const where = `input ${idx} of ${call}`;
  if (!spread) {
    checkSerializable(where, item); // the item itself, so the message has no "argument 1"
    return checkArgsSize(where, encodeChecked(where, [item]));
  }
  if (!Array.isArray(item)) throw new InvalidError(`${where} must be an argument list (an array), got ${item === null ? "null" : typeof item}`);
  return encodeArgs(where, item);
}

export async function* runMap(spec: MapSpec): AsyncGenerator<unknown> {
  const run = new MapRun(spec, await spec.resolve());
  try {
    yield* run.outputs();
  } finally {
    await run.close();
  }
}

/** Wakes whoever waits for the run's state to change. */
class Notifier {
  private waiters: Array<() => void> = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

const FLUSH = Symbol("flush");

class MapRun {
  private readonly http: Http;
  /** The client's call channels: the map's inputs and reads of its outputs go there when one is open to its pool. */
  private readonly channels: CallChannels | null;
  private readonly abort = new AbortController();
  private readonly changed = new Notifier();
  /** The inputs, read one at a time: an async source may make us wait; a plain iterable is read without awaiting each item. */
  private readonly source: { sync: Iterator<unknown> } | { async: AsyncIterator<unknown> };
  /** A source read still under way when the last batch was flushed; the next batch starts with it. */
  private pendingRead: Promise<IteratorResult<unknown>> | null = null;
  private callId: string | null = null;
  private cursor = 0;
  /** Inputs pulled from the source (the next input's idx). */
  private pulled = 0;
  private yielded = 0;
  private sourceDone = false;
  private closedSent = false;
  private callDone = false;
  private finished = false;
  private fatal: Error | null = null;
  /** Inputs sent (or being sent) with no output yet: an output for any other idx is a repeat. */
  private readonly awaitingOutput = new Set<number>();
  private readonly inOrder = new Map<number, unknown>();
  private readonly asCompleted: unknown[] = [];
  private readonly progress: MapProgress;

  constructor(
    private readonly spec: MapSpec,
    private readonly target: CallTarget,
  ) {
    this.http = httpOf(target.client);
    this.channels = channelsOf(target.client);
    this.source = Symbol.asyncIterator in spec.inputs ? { async: spec.inputs[Symbol.asyncIterator]() } : { sync: spec.inputs[Symbol.iterator]() };
    this.progress = { call: spec.call, done: 0, total: sizeOf(spec.inputs), startedAtMs: Date.now(), finished: false };
  }

  async *outputs(): AsyncGenerator<unknown> {
    void this.sendInputs().catch((err: unknown) => this.fail(err));
    for (;;) {
      if (this.fatal) throw this.fatal;
      const ready = this.takeReady();
      if (ready) {
        this.yielded++;
        this.changed.notify(); // frees room for the sender
        if (progressListened()) reportProgress({ ...this.progress, done: this.yielded });
        yield ready.value;
        continue;
      }
      if (this.closedSent && this.yielded === this.pulled) {
        this.finished = true;
        reportProgress({ ...this.progress, done: this.yielded, finished: true });
        return;
      }
      if (this.callDone && this.closedSent && this.awaitingOutput.size > 0) {
        throw new RemoteError(`map call ${this.callId} ended without outputs for ${this.awaitingOutput.size} inputs`);
      }
      await this.changed.wait();
    }
  }

  async close(): Promise<void> {
    if (!this.finished) reportProgress({ ...this.progress, done: this.yielded, finished: true });
    this.abort.abort();
    this.changed.notify();
    // The source may be an async generator stuck in a read; don't wait for it.
    const source = this.source;
    void Promise.resolve()
      .then(() => ("sync" in source ? source.sync.return?.() : source.async.return?.()))
      .catch(() => undefined);
    if (!this.finished && this.callId) {
      try {
        await this.http.send(ROUTES.cancelCall, { params: { callId: this.callId } });
      } catch {
        // Best effort: an unfinished map the platform doesn't hear about expires by itself.
      }
    }
  }

  private get ordered(): boolean {
    return this.spec.options.orderOutputs ?? true;
  }

  private room(): number {
    return MAP_MAX_IN_FLIGHT - (this.pulled - this.yielded);
  }

  private takeReady(): { value: unknown } | null {
    if (this.ordered) {
      if (!this.inOrder.has(this.yielded)) return null;
      const value = this.inOrder.get(this.yielded);
      this.inOrder.delete(this.yielded);
      return { value };
    }
    return this.asCompleted.length > 0 ? { value: this.asCompleted.shift() } : null;
  }

  private fail(err: unknown): void {
    if (this.abort.signal.aborted || this.fatal) return;
    this.fatal = err instanceof Error ? err : new RemoteError(String(err));
    this.changed.notify();
  }

  private async sendInputs(): Promise<void> {
    while (!this.abort.signal.aborted) {
      while (this.room() <= 0) {
        await this.changed.wait();
        if (this.abort.signal.aborted) return;
      }
      const batch = await this.pullBatch(Math.min(MAP_BATCH_SIZE, this.room()));
      if (this.abort.signal.aborted) return;
      const closed = this.sourceDone;
      if (this.callId === null) {
        if (batch.length > 0) await this.createCall(batch, closed);
      } else {
        await this.putInputs(batch, closed);
      }
      if (closed) {
        this.closedSent = true;
        this.changed.notify();
        return;
      }
    }
  }

  /** Pulls up to `max` inputs: at least one (unless the source ends), more while the source keeps up. */
  private async pullBatch(max: number): Promise<InputItem[]> {
    const batch: InputItem[] = [];
    let bytes = 0;
    if ("sync" in this.source) {
      // Always keeps up: no read to wait for, so no timer and no await per item.
      while (batch.length < max) {
        const result = this.source.sync.next();
        if (result.done) {
          this.sourceDone = true;
          break;
        }
        bytes += this.addInput(batch, result.value);
        if (batchIsFull(batch.length, bytes)) break;
      }
      return batch;
    }
    const source = this.source.async;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let flush: Promise<typeof FLUSH> | null = null;
    try {
      while (batch.length < max) {
        const read = (this.pendingRead ??= source.next());
        const result =
          batch.length === 0 ? await read : await Promise.race([read, (flush ??= new Promise((r) => (timer = setTimeout(() => r(FLUSH), FLUSH_AFTER_MS))))]);
        if (result === FLUSH) break;
        this.pendingRead = null;
        if (result.done) {
          this.sourceDone = true;
          break;
        }
        bytes += this.addInput(batch, result.value);
        if (batchIsFull(batch.length, bytes)) break;
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    return batch;
  }

  /** Adds the source's next item to the batch as the next input; the bytes of its arguments. */
  private addInput(batch: InputItem[], item: unknown): number {
    const idx = this.pulled;
    const args = encodeItem(this.spec.call, idx, item, this.spec.spread);
    this.pulled++;
    this.awaitingOutput.add(idx);
    batch.push({ idx, args });
    return args.byteLength;
  }

  private async createCall(inputs: InputItem[], closed: boolean): Promise<void> {
    // The request id makes a resend after a lost answer find the call the first send started.
    const body: CreateCallRequest = { kind: "map", ...targetFields(this.target), inputs, closed, requestId: crypto.randomUUID() };
    const params = { functionId: this.target.functionId };
    const res = await withRetries(() => this.http.send(ROUTES.createCall, { params, body, signal: this.abort.signal }), {
      waitWhenExhausted: true,
      retryTransient: true,
      signal: this.abort.signal,
    });
    this.callId = res.callId;
    this.cursor = res.cursor;
    this.accept(res.outputs);
    this.callDone = res.done;
    void this.pollOutputs().catch((err: unknown) => this.fail(err));
  }

  private async putInputs(inputs: InputItem[], closed: boolean): Promise<void> {
    if (await this.channels?.putInputs(channelPathOf(this.target), { callId: this.callId!, inputs, closed })) return;
    // The platform admits a resent batch once (inputs are keyed by idx), so every failure may be retried.
    await withRetries(() => this.http.send(ROUTES.putInputs, { params: { callId: this.callId! }, body: { inputs, closed }, signal: this.abort.signal }), {
      waitWhenExhausted: true,
      retryTransient: true,
      signal: this.abort.signal,
    });
  }

  private async pollOutputs(): Promise<void> {
    const params = { callId: this.callId! };
    while (!this.callDone && !this.abort.signal.aborted) {
      // Resuming from the last cursor after a dropped poll re-reads nothing already accepted.
      const res =
        (await this.channels?.getOutputs(channelPathOf(this.target), { callId: params.callId, cursor: this.cursor, waitMs: LONG_POLL_MS })) ??
        (await withRetries(
          () => this.http.send(ROUTES.getOutputs, { params, query: { cursor: this.cursor, waitMs: LONG_POLL_MS }, signal: this.abort.signal }),
          { retryTransient: true, waitWhenExhausted: true, signal: this.abort.signal },
        ));
      if (this.abort.signal.aborted) break;
      this.cursor = res.cursor;
      this.accept(res.outputs);
      this.callDone = res.done;
    }
    this.changed.notify();
  }

  private accept(outputs: GetOutputsResponse["outputs"]): void {
    const { returnExceptions = false, wrapReturnedExceptions = true } = this.spec.options;
    for (const output of outputs) {
      if (!this.awaitingOutput.delete(output.idx)) continue;
      const outcome = outcomeOf(this.target.client, output);
      let value: unknown;
      if (outcome.ok) {
        value = outcome.value;
      } else if (!returnExceptions) {
        // As Modal raises the original exception: the remote error itself, marked with its input.
        return this.fail(markInput(outcome.error, output.idx));
      } else {
        const wrap = outcome.userCode && wrapReturnedExceptions;
        const error = wrap
          ? new UserCodeException(`input ${output.idx} of ${this.spec.call} failed: ${outcome.error.name}: ${outcome.error.message}`, { cause: outcome.error })
          : outcome.error;
        value = markInput(error, output.idx);
      }
      if (this.ordered) this.inOrder.set(output.idx, value);
      else this.asCompleted.push(value);
    }
    this.changed.notify();
  }
}

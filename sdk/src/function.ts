// The function handle: what `app.function(...)` and `client.functions.fromName(...)` return.
import type { CreateCallRequest, CreateCallResponse, FunctionStats, InputItem, SpawnResponse } from "./wire/api.js";
import type { AutoscalerUpdate, ConcurrencyOptions } from "./wire/options.js";
import type { Variant, VariantOptions } from "./wire/variant.js";
import { InvalidError, RemoteError } from "./errors.js";
import { httpOf, withRetries } from "./http.js";
import { LONG_POLL_MS, channelPathOf, encodeArgs, resultOf, targetFields, waitForOutput, type CallTarget, type ResolveTarget } from "./calls.js";
import { channelsOf } from "./channel.js";
import { FunctionCall } from "./function-call.js";
import { MapStream, batchIsFull, checkIterable, encodeItem, runMap, toAsyncIterator, type Inputs, type MapOptions } from "./map.js";
import { getCurrentStats, updateAutoscaler } from "./pool-control.js";
import { concurrencyVariant, optionsVariant, targetOfVariant } from "./variant-handle.js";
import { ROUTES } from "./wire/routes.js";
import { checkGenerator, isGeneratorTarget, readStream } from "./generator-call.js";

/** Map options that put failures into the stream, so the stream's items may be errors. */
export type MapOptionsReturningExceptions = MapOptions & { returnExceptions: true };

export class FunctionHandle<Args extends unknown[], R> {
  /** The function's target, without the variant: what a further variant builds on. */
  readonly #unvaried: ResolveTarget;
  readonly #resolve: ResolveTarget;
  readonly #local: ((...args: Args) => Promise<R>) | null;
  /** Whether the function is an async function*, when this process has its code; otherwise the deployment says. */
  readonly #generator: boolean | null;
  /** The options this handle's variant replaces ({} for the function's own pool). */
  readonly #variant: Variant;

  /** `name` reads as in messages: `evaluateModel`, or `Model.predict` for a class method. */
  constructor(
    readonly name: string,
    resolve: ResolveTarget,
    local: ((...args: Args) => Promise<R>) | null,
    generator: boolean | null = null,
    variant: Variant = {},
  ) {
    this.#unvaried = resolve;
    this.#resolve = targetOfVariant(resolve, variant);
    this.#local = local;
    this.#generator = generator;
    this.#variant = variant;
  }

  /**
   * A handle whose calls run in a pool of their own, with these options
   * replacing the function's (merged over this handle's variant, if any).
   * The function's own pool is left alone. Throws InvalidError for an option
   * `app.function` would refuse.
   */
  withOptions(options: VariantOptions): FunctionHandle<Args, R> {
    return new FunctionHandle<Args, R>(this.name, this.#unvaried, this.#local, this.#generator, optionsVariant(this.name, this.#variant, options));
  }

  /** Like withOptions, for the concurrency of `concurrent`: `maxInputs` per container, and `targetInputs`. */
  withConcurrency(concurrency: ConcurrencyOptions): FunctionHandle<Args, R> {
    return new FunctionHandle<Args, R>(this.name, this.#unvaried, this.#local, this.#generator, concurrencyVariant(this.name, this.#variant, concurrency));
  }

  /** Runs once remotely; a remote throw re-throws here with its name, message and remote stack. */
  async remote(...args: Args): Promise<R> {
    const call = `${this.name}.remote()`;
    if (this.#generator !== null) checkGenerator(this.name, call, this.#generator, false);
    const encoded = encodeArgs(call, args);
    const target = await this.#resolveFor(call, false);
    const requestId = crypto.randomUUID();
    const res = (await startOnChannel(target, encoded, requestId)) ?? (await startOneInputCall(target, encoded, LONG_POLL_MS, requestId));
    const output = res.outputs.find((o) => o.idx === 0) ?? (await waitForOutput(target.client, res.callId, res.cursor));
    return resultOf<R>(target.client, output!);
  }

  /**
   * Runs an async function* once remotely and yields what it yields, as it is
   * yielded: the generator runs at most a window of values ahead of the loop
   * (back-pressure); an error it throws comes after the values before it;
   * leaving the loop early cancels the call.
   */
  remoteGen<T>(this: FunctionHandle<Args, AsyncIterable<T>>, ...args: Args): AsyncGenerator<T, void, undefined> {
    return this.#remoteGen(args) as AsyncGenerator<T, void, undefined>;
  }

  #remoteGen(args: Args): AsyncGenerator<unknown, void, undefined> {
    const call = `${this.name}.remoteGen()`;
    if (this.#generator !== null) checkGenerator(this.name, call, this.#generator, true);
    const encoded = encodeArgs(call, args);
    const start = async (): Promise<{ client: CallTarget["client"]; callId: string }> => {
      const target = await this.#resolveFor(call, true);
      const res = await startOneInputCall(target, encoded, 0, crypto.randomUUID());
      return { client: target.client, callId: res.callId };
    };
    return (async function* () {
      const { client, callId } = await start();
      yield* readStream<unknown>(client, callId);
    })();
  }

  /** Runs in this process, with the function's own code. */
  async local(...args: Args): Promise<R> {
    if (!this.#local) {
      throw new InvalidError(`${this.name} was looked up by name, so its code is not in this process; local() needs the handle from app.function()`);
    }
    return this.#local(...args);
  }

  /** One input per item, in parallel across containers. */
  map(inputs: Inputs<Args[0]>, options?: MapOptions & { returnExceptions?: false }): MapStream<R>;
  map(inputs: Inputs<Args[0]>, options: MapOptionsReturningExceptions): MapStream<R | Error>;
  map(inputs: Inputs<Args[0]>, options: MapOptions = {}): MapStream<R | Error> {
    return this.#stream(`${this.name}.map()`, inputs, false, options);
  }

  /** Like map, with each item spread as the argument list. */
  starmap(argLists: Inputs<Args>, options?: MapOptions & { returnExceptions?: false }): MapStream<R>;
  starmap(argLists: Inputs<Args>, options: MapOptionsReturningExceptions): MapStream<R | Error>;
  starmap(argLists: Inputs<Args>, options: MapOptions = {}): MapStream<R | Error> {
    return this.#stream(`${this.name}.starmap()`, argLists, true, options);
  }

  /** Runs every input and discards the results; the first failure throws. */
  async forEach(inputs: Inputs<Args[0]>): Promise<void> {
    const stream = this.#stream(`${this.name}.forEach()`, inputs, false, { orderOutputs: false });
    for await (const _ of stream) {
      // Draining is the point: results are not kept.
    }
  }

  /** Enqueues one call and returns at once; read its result later with get(). */
  async spawn(...args: Args): Promise<FunctionCall<R>> {
    const encoded = encodeArgs(`${this.name}.spawn()`, args);
    const target = await this.#resolve();
    const [callId] = await spawnBatch(target, [{ idx: 0, args: encoded }], false);
    return new FunctionCall<R>(target.client, callId, this.#generator ?? isGeneratorTarget(target));
  }

  /** Spawns one call per input (in batches, waiting out the platform's limits). */
  async spawnMap(inputs: Inputs<Args[0]>): Promise<FunctionCall<R>[]> {
    const call = `${this.name}.spawnMap()`;
    checkIterable(call, inputs);
    const target = await this.#resolve();
    // Batches go out SPAWN_BATCHES_IN_FLIGHT at a time (the platform admits one while it queues another); call ids come back in input order.
    const sent: Array<Promise<string[]>> = [];
    const inFlight = new Set<Promise<void>>();
    const first: { refusal?: { error: unknown } } = {};
    let batch: InputItem[] = [];
    let bytes = 0;
    const flush = async (): Promise<void> => {
      const ids = spawnBatch(target, batch, true);
      sent.push(ids);
      const settled: Promise<void> = ids
        .then(
          () => undefined,
          (error: unknown) => void (first.refusal ??= { error }),
        )
        .finally(() => inFlight.delete(settled));
      inFlight.add(settled);
      batch = [];
      bytes = 0;
      while (inFlight.size >= SPAWN_BATCHES_IN_FLIGHT) await Promise.race(inFlight);
      // A refused batch stops the rest from going out.
      if (first.refusal) throw first.refusal.error;
    };
    const source = toAsyncIterator(inputs);
    let idx = 0;
    for (let next = await source.next(); !next.done; next = await source.next()) {
      const args = encodeItem(call, idx, next.value, false);
      batch.push({ idx, args });
      bytes += args.byteLength;
      idx++;
      if (batchIsFull(batch.length, bytes)) await flush();
    }
    if (batch.length > 0) await flush();
    await Promise.all(inFlight);
    if (first.refusal) throw first.refusal.error;
    const generator = this.#generator ?? isGeneratorTarget(target);
    return (await Promise.all(sent)).flat().map((id) => new FunctionCall<R>(target.client, id, generator));
  }

  /** Overrides autoscaler settings now (merged with earlier overrides; the next deploy reverts them). */
  updateAutoscaler(settings: AutoscalerUpdate): Promise<void> {
    return this.#resolve().then(async (target) => void (await updateAutoscaler(target, this.name, settings)));
  }

  /** Backlog, running inputs, containers by state and the autoscaler settings in effect. */
  getCurrentStats(): Promise<FunctionStats> {
    return this.#resolve().then(getCurrentStats);
  }

  #stream(call: string, inputs: Inputs<unknown>, spread: boolean, options: MapOptions): MapStream<R | Error> {
    checkIterable(call, inputs);
    if (this.#generator !== null) checkGenerator(this.name, call, this.#generator, false);
    return new MapStream(() => runMap({ call, resolve: () => this.#resolveFor(call, false), inputs, spread, options }) as AsyncGenerator<R | Error>);
  }

  /** The deployed target, refused when `call` does not fit it (a generator called with remote() or map(), or the other way round). */
  async #resolveFor(call: string, wantsGenerator: boolean): Promise<CallTarget> {
    const target = await this.#resolve();
    checkGenerator(this.name, call, this.#generator ?? isGeneratorTarget(target), wantsGenerator);
    return target;
  }
}

/** Starts a `remote` call of one input on the pool's call channel (channel.ts); null when it is to go over HTTP. */
function startOnChannel(target: CallTarget, args: Uint8Array, requestId: string): Promise<CreateCallResponse | null> {
  const channels = channelsOf(target.client);
  if (!channels) return Promise.resolve(null);
  return channels.call(channelPathOf(target), {
    requestId,
    ...(target.method !== undefined ? { method: target.method } : {}),
    args,
    waitMs: LONG_POLL_MS,
  });
}

/** Starts a `remote` call of one input, waiting up to waitMs for its output. */
function startOneInputCall(target: CallTarget, args: Uint8Array, waitMs: number, requestId: string): Promise<CreateCallResponse> {
  const body: CreateCallRequest = { kind: "remote", ...targetFields(target), inputs: [{ idx: 0, args }], closed: true, waitMs, requestId };
  // The request id makes a resend after a dropped connection find the call the first send started.
  return withRetries(() => httpOf(target.client).send(ROUTES.createCall, { params: { functionId: target.functionId }, body }), { retryTransient: true });
}

/** spawnMap's batches in flight at once. */
const SPAWN_BATCHES_IN_FLIGHT = 4;

async function spawnBatch(target: CallTarget, inputs: InputItem[], waitWhenExhausted: boolean): Promise<string[]> {
  const send = (): Promise<SpawnResponse> =>
    httpOf(target.client).send(ROUTES.spawn, { params: { functionId: target.functionId }, body: { ...targetFields(target), inputs } });
  // A 429 admits nothing, so resending the same batch cannot spawn twice.
  const res = waitWhenExhausted ? await withRetries(send, { waitWhenExhausted: true }) : await send();
  if (res.callIds.length !== inputs.length) {
    throw new RemoteError(`the platform answered ${res.callIds.length} call ids for ${inputs.length} spawned inputs`);
  }
  return res.callIds;
}

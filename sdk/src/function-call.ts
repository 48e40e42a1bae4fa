// A spawned call: its id can be stored and its result read later, from any process.
import type { Client } from "./client.js";
import { MAX_CALLS_PER_RESULTS_READ } from "./wire/api.js";
import { FunctionTimeoutError, InvalidError, NotFoundError } from "./errors.js";
import { readStream, type YieldOf } from "./generator-call.js";
import { httpOf, sleep, withRetries } from "./http.js";
import { LONG_POLL_MS, resultOf, waitForOutput } from "./calls.js";
import { ROUTES } from "./wire/routes.js";

export interface GetOptions {
  /** Give up after this long with a FunctionTimeoutError; without it, wait as long as the call runs. */
  timeoutMs?: number;
}

/** The pause between two reads of a gather that each brought only a few results. */
const GATHER_PAUSE_MS = 100;

type ResultsOf<T extends readonly FunctionCall<unknown>[]> = { -readonly [K in keyof T]: T[K] extends FunctionCall<infer R> ? R : never };

export class FunctionCall<R = unknown> {
  constructor(
    private readonly client: Client,
    readonly id: string,
    /** Spawned from a generator function (true), a plain one (false), or not known (a call looked up by id). */
    private readonly generator: boolean | null = null,
  ) {}

  /** A handle on a call spawned earlier (e.g. in another process). */
  static fromId<R = unknown>(client: Client, id: string): FunctionCall<R> {
    return new FunctionCall<R>(client, id);
  }

  /**
   * Waits for every call; results come in the order of the calls, and the
   * first failure throws. Results are read many calls to a request (up to
   * 1 000), so gathering thousands of calls takes a handful of requests.
   */
  static async gather<T extends readonly FunctionCall<unknown>[]>(...calls: T): Promise<ResultsOf<T>> {
    const results = new Array<unknown>(calls.length);
    const byClient = new Map<Client, Map<string, number[]>>();
    calls.forEach((call, i) => {
      const positions = byClient.get(call.client) ?? new Map<string, number[]>();
      byClient.set(call.client, positions);
      positions.set(call.id, [...(positions.get(call.id) ?? []), i]);
    });
    const stop = new AbortController(); // the first failure stops the other clients' reads
    try {
      await Promise.all([...byClient].map(([client, positions]) => readResults(client, positions, results, stop.signal)));
    } finally {
      stop.abort();
    }
    return results as ResultsOf<T>;
  }

  /** The call's result; a remote throw re-throws here as its class (as far as the client knows it), with its message, fields and remote stack. */
  async get(options: GetOptions = {}): Promise<R> {
    if (this.generator === true) throw new InvalidError(`call ${this.id} is of a generator function: read what it yields with stream()`);
    const deadlineMs = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
    const output = await waitForOutput(this.client, this.id, 0, deadlineMs);
    if (!output) throw new FunctionTimeoutError(`call ${this.id} did not finish within ${options.timeoutMs} ms`);
    return resultOf<R>(this.client, output);
  }

  /**
   * A generator call's values, as they are yielded (like `remoteGen`): an
   * error it threw comes after the values before it, and leaving the loop
   * early cancels the call. Read a call's values once: each read takes them.
   */
  stream(): AsyncGenerator<YieldOf<R>, void, undefined> {
    if (this.generator === false) throw new InvalidError(`call ${this.id} is not of a generator function: read its result with get()`);
    return readStream<YieldOf<R>>(this.client, this.id);
  }

  /** Cancels the call's pending and running inputs; a later get() raises InputCancellation. */
  async cancel(): Promise<void> {
    await httpOf(this.client).send(ROUTES.cancelCall, { params: { callId: this.id } });
  }
}

/** Reads the results of `positions`' calls into `results` (at each call's positions) until every one is in. */
async function readResults(client: Client, positions: Map<string, number[]>, results: unknown[], signal: AbortSignal): Promise<void> {
  const http = httpOf(client);
  const waiting = new Map(positions);
  while (waiting.size > 0) {
    const callIds = [...waiting.keys()].slice(0, MAX_CALLS_PER_RESULTS_READ);
    const res = await withRetries(() => http.send(ROUTES.getCallResults, { body: { callIds, waitMs: LONG_POLL_MS }, signal }), {
      retryTransient: true,
      waitWhenExhausted: true,
      signal,
    });
    if (res.missing.length > 0) throw new NotFoundError(`call ${res.missing[0]} not found`);
    for (const { callId, output } of res.results) {
      const value = resultOf(client, output);
      for (const i of waiting.get(callId) ?? []) results[i] = value;
      waiting.delete(callId);
    }
    // Results trickling in one by one would make every read ask for the same thousand calls
    // again at once: let a few more finish first.
    if (waiting.size > 0 && res.results.length < callIds.length / 2) await sleep(GATHER_PAUSE_MS, signal);
  }
}

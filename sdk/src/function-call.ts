// A spawned call: its id can be stored and its result read later, from any process.
import type { Client } from "./client.js";
import type { CancelCallResponse } from "./wire/api.js";
import { FunctionTimeoutError } from "./errors.js";
import { httpOf } from "./http.js";
import { resultOf, waitForOutput } from "./calls.js";

export interface GetOptions {
  /** Give up after this long with a FunctionTimeoutError; without it, wait as long as the call runs. */
  timeoutMs?: number;
}

/** Results gather() reads at once. */
const GATHER_CONCURRENCY = 50;

type ResultsOf<T extends readonly FunctionCall<unknown>[]> = { -readonly [K in keyof T]: T[K] extends FunctionCall<infer R> ? R : never };

export class FunctionCall<R = unknown> {
  constructor(private readonly client: Client, readonly id: string) {}

  /** A handle on a call spawned earlier (e.g. in another process). */
  static fromId<R = unknown>(client: Client, id: string): FunctionCall<R> {
    return new FunctionCall<R>(client, id);
  }

  /**
   * Waits for every call; results come in the order of the calls, and the
   * first failure throws. At most GATHER_CONCURRENCY results are read at once,
   * so gathering thousands of calls does not open thousands of connections.
   */
  static async gather<T extends readonly FunctionCall<unknown>[]>(...calls: T): Promise<ResultsOf<T>> {
    const results = new Array<unknown>(calls.length);
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (!failed && next < calls.length) {
        const i = next++;
        try {
          results[i] = await calls[i].get();
        } catch (err) {
          failed = true; // the others stop taking new calls; the first failure is what gather throws
          throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(GATHER_CONCURRENCY, calls.length) }, worker));
    return results as ResultsOf<T>;
  }

  /** The call's result; a remote throw re-throws here with its name, message and remote stack. */
  async get(options: GetOptions = {}): Promise<R> {
    const deadlineMs = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
    const output = await waitForOutput(this.client, this.id, 0, deadlineMs);
    if (!output) throw new FunctionTimeoutError(`call ${this.id} did not finish within ${options.timeoutMs} ms`);
    return resultOf<R>(output);
  }

  /** Cancels the call's pending and running inputs; a later get() raises InputCancellation. */
  async cancel(): Promise<void> {
    await httpOf(this.client).request<CancelCallResponse>("POST", `/v1/calls/${encodeURIComponent(this.id)}/cancel`);
  }
}

// Reading a generator call's values as they are yielded (README "Streaming
// generators"): `fn.remoteGen(...)` and `FunctionCall.stream()`.
import type { Client } from "./client.js";
import { InvalidError } from "./errors.js";
import { httpOf, withRetries } from "./http.js";
import { LONG_POLL_MS, resultOf, type CallTarget } from "./calls.js";
import { decode } from "./wire/serialization.js";
import { ROUTES } from "./wire/routes.js";

/** What a generator yields: the element type of an AsyncIterable (unknown for anything else). */
export type YieldOf<R> = R extends AsyncIterable<infer T> ? T : unknown;

/**
 * Yields a generator call's values in order. The next read goes out only once
 * the caller has taken every value of the last one, and says how far it got,
 * so the generator never runs more than a window ahead of the caller. An
 * error the generator threw is raised after the values before it. Leaving
 * early (`break`, a throw in the loop) cancels the call, which ends the
 * generator on its container (its finally blocks run).
 */
export async function* readStream<T>(client: Client, callId: string): AsyncGenerator<T, void, undefined> {
  const http = httpOf(client);
  let from = 0;
  let ended = false;
  try {
    for (;;) {
      const res = await withRetries(() => http.send(ROUTES.getStream, { params: { callId }, query: { from, waitMs: LONG_POLL_MS } }), {
        // A read is safe to repeat: it asks from the same index again.
        retryTransient: true,
        waitWhenExhausted: true,
      });
      for (const value of res.values) {
        from++;
        yield decode<T>(value);
      }
      if (res.values.length === 0 && res.output) {
        ended = true;
        resultOf(client, res.output); // the generator's error, if it threw one
        return;
      }
    }
  } finally {
    if (!ended) await http.send(ROUTES.cancelCall, { params: { callId } }).catch(() => undefined);
  }
}

/** Refuses a call that does not fit the function: remoteGen of a plain function, or remote()/map() of a generator. */
export function checkGenerator(name: string, call: string, generator: boolean, wantsGenerator: boolean): void {
  if (generator === wantsGenerator) return;
  if (generator) {
    throw new InvalidError(`${name} is a generator function (async function*): ${call} cannot run it; stream what it yields with ${name}.remoteGen(...)`);
  }
  throw new InvalidError(`${name} is not a generator function: ${call} streams what an async function* yields; call ${name}.remote(...) instead`);
}

export function isGeneratorTarget(target: CallTarget): boolean {
  return target.generator === true;
}

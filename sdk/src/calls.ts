// What every kind of call shares: the deployed target, argument encoding
// (checked before anything is sent), and turning an output into a value or
// the error to raise.
import type { Client } from "./client.js";
import { MAX_INPUT_ARGS_BYTES, type GetOutputsResponse, type OutputItem } from "./wire/api.js";
import { decode, encode, findUnserializable, type SerializedError } from "./wire/serialization.js";
import { errorClassLookup, rebuildError } from "./remote-errors.js";
import { FunctionTimeoutError, InputCancellation, InvalidError, RemoteError } from "./errors.js";
import { httpOf, withRetries } from "./http.js";
import { ROUTES, pathOf } from "./wire/routes.js";
import { bytesToBase64url } from "./wire/base64url.js";

/** A deployed function, or one method of one class instance. */
export interface CallTarget {
  client: Client;
  functionId: string;
  method?: string;
  /** CBOR of a class instance's constructor params. */
  params?: Uint8Array;
  /** Whether the deployed function is an async function* (its calls stream: remoteGen). */
  generator?: boolean;
  /** A variant's canonical options (wire/variant.ts): its calls run in the variant's own pool. */
  variant?: string;
}

export type ResolveTarget = () => Promise<CallTarget>;

/** How long one output poll may wait on the server (the API allows up to 60 s). */
export const LONG_POLL_MS = 25_000;
/** How long past a get()'s deadline its last poll may still answer. */
const DEADLINE_GRACE_MS = 1_000;

/** The body fields that name a class instance's method and a variant, when there are. */
export function targetFields(target: CallTarget): { method?: string; params?: Uint8Array; variant?: string } {
  return {
    ...(target.method !== undefined ? { method: target.method } : {}),
    ...(target.params !== undefined ? { params: target.params } : {}),
    ...(target.variant ? { variant: target.variant } : {}),
  };
}

/** Query of the routes about one pool: `?params=<base64url of CBOR params>` for a class instance, `?variant=…` for a variant. */
export function instanceQuery(target: CallTarget): { params?: string; variant?: string } {
  return {
    ...(target.params ? { params: bytesToBase64url(target.params) } : {}),
    ...(target.variant ? { variant: target.variant } : {}),
  };
}

/** Each resolved target's call channel path: a target is resolved once and called many times. */
const channelPaths = new WeakMap<CallTarget, string>();

/** The path (and query) of the call channel route of the target's pool (channel.ts). */
export function channelPathOf(target: CallTarget): string {
  let path = channelPaths.get(target);
  if (path === undefined) {
    const query = new URLSearchParams(instanceQuery(target)).toString();
    path = pathOf(ROUTES.callChannel, { functionId: target.functionId }) + (query ? `?${query}` : "");
    channelPaths.set(target, path);
  }
  return path;
}

/** CBOR of a value that must travel; `where` names it in the error, e.g. `argument 2 of f.remote()`. */
export function encodeValue(where: string, value: unknown): Uint8Array {
  checkSerializable(where, value);
  return encodeChecked(where, value);
}

/** Throws InvalidError naming `where` if `value` holds something CBOR cannot carry (a function, a class instance, a cycle…). */
export function checkSerializable(where: string, value: unknown): void {
  const bad = findUnserializable(value);
  if (bad !== null) throw new InvalidError(`${where}: ${bad.replace(/^value /, "the value ")} cannot be serialized`);
}

/** CBOR of a value already checked with checkSerializable (each value is walked and encoded once). */
export function encodeChecked(where: string, value: unknown): Uint8Array {
  try {
    return encode(value);
  } catch (err) {
    throw new InvalidError(`${where} cannot be serialized: ${(err as Error).message}`);
  }
}

/**
 * One input's arguments may be at most this large serialized (the API's
 * inline limit; it answers 413 above it). Larger data travels by reference.
 */
export const MAX_ARGS_BYTES = MAX_INPUT_ARGS_BYTES;

/** Refuses an input's serialized arguments over MAX_ARGS_BYTES, before anything is sent. */
export function checkArgsSize(where: string, args: Uint8Array): Uint8Array {
  if (args.byteLength > MAX_ARGS_BYTES) {
    throw new InvalidError(
      `${where}: the arguments are ${args.byteLength} bytes serialized; the limit is ${MAX_ARGS_BYTES} bytes per input: ` +
        "pass large data by reference (e.g. a URL) instead",
    );
  }
  return args;
}

/** CBOR of an argument list, checking each argument first. */
export function encodeArgs(call: string, args: readonly unknown[]): Uint8Array {
  args.forEach((arg, i) => checkSerializable(`argument ${i + 1} of ${call}`, arg));
  // Every argument is checked: the list itself is fresh, so encode it without walking it again.
  return checkArgsSize(call, encodeChecked(call, args));
}

export type Outcome = { ok: true; value: unknown } | { ok: false; error: Error; userCode: boolean };

/** The output of one input: its value, or the error to raise (a user's error rebuilt as its class, as far as `client` knows it). */
export function outcomeOf(client: Client, output: OutputItem): Outcome {
  if (output.status === "success") return { ok: true, value: decode(output.value) };
  const remote = decodeError(output.value);
  switch (output.status) {
    case "failure":
      return { ok: false, error: rebuildError(remote ?? { name: "Error", message: "the remote function failed" }, errorClassLookup(client)), userCode: true };
    case "timeout":
      return { ok: false, error: new FunctionTimeoutError(remote?.message ?? "the input ran longer than the function's timeoutMs"), userCode: false };
    case "cancelled":
      return { ok: false, error: new InputCancellation(remote?.message ?? "the input was cancelled"), userCode: false };
    default:
      return { ok: false, error: new RemoteError(remote?.message ?? "the platform failed to run the input"), userCode: false };
  }
}

function decodeError(bytes: Uint8Array): SerializedError | null {
  try {
    const value = decode<SerializedError>(bytes);
    return value && typeof value.message === "string" ? value : null;
  } catch {
    return null;
  }
}

/** The value of a single-input call's output; a failure throws the rebuilt remote error. */
export function resultOf<R>(client: Client, output: OutputItem): R {
  const outcome = outcomeOf(client, output);
  if (!outcome.ok) throw outcome.error;
  return outcome.value as R;
}

/**
 * Long-polls a single-input call (remote or spawned) for its output. Returns
 * null once `deadlineMs` (a Date.now() time) passes first; without one, waits
 * as long as it takes.
 */
export async function waitForOutput(client: Client, callId: string, cursor: number, deadlineMs?: number): Promise<OutputItem | null> {
  const http = httpOf(client);
  // Retries (a 429, a dropped connection) stop at the deadline too, give or take a poll's answer in flight.
  const signal = deadlineMs === undefined ? undefined : AbortSignal.timeout(Math.max(0, deadlineMs - Date.now()) + DEADLINE_GRACE_MS);
  for (;;) {
    const waitMs = deadlineMs === undefined ? LONG_POLL_MS : Math.max(0, Math.min(LONG_POLL_MS, deadlineMs - Date.now()));
    let res: GetOutputsResponse;
    try {
      res = await withRetries(
        () => http.send(ROUTES.getOutputs, { params: { callId }, query: { cursor, waitMs }, signal }),
        // A read is safe to repeat: wait out a 429 (the per-token rate limit) as well as a dropped connection.
        { retryTransient: true, waitWhenExhausted: true, signal },
      );
    } catch (err) {
      if (signal?.aborted) return null;
      throw err;
    }
    const output = res.outputs.find((o) => o.idx === 0);
    if (output) return output;
    if (res.done) throw new RemoteError(`call ${callId} finished without an output`);
    cursor = res.cursor;
    if (deadlineMs !== undefined && Date.now() >= deadlineMs) return null;
  }
}

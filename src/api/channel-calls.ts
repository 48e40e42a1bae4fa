// A call channel's calls (sdk/src/wire/channel.ts), without the socket
// (api/call-channel.ts holds it): a frame read and checked as the HTTP route
// checks a remote's body, and the call's answer, from a pool that starts it
// as createCall does. Pure: the pool is behind ChannelHost.
import type { CreateCallResponse } from "../../sdk/src/wire/api";
import type { ChannelAnswer, ChannelCall } from "../../sdk/src/wire/channel";
import { decode, encode } from "../../sdk/src/wire/serialization";
import { decodeSimpleMap, knownKeys } from "../../sdk/src/wire/simple-cbor";
import type { CallOutputs, CreateCallArgs, PoolConfig, PoolResult } from "../pool/config";
import { ApiError, fromPoolError, invalid } from "../control/errors";
import { checkMethod, checked } from "../control/validation";
import { checkCallInputs } from "./call-bodies";
import { encodeOutputs } from "./outputs-cbor";
import * as wire from "./wire";

/** What the Worker's channel route found, for the pool to hold the channel's calls to. */
export interface ChannelOpening {
  config: PoolConfig;
  fn: { kind: "function" | "class"; name: string; methods: string[] };
  /** The token's hash: each call takes one request from its rate limit. */
  tokenHash: string;
}

/** What a channel needs of its pool. */
export interface ChannelHost {
  configure(config: PoolConfig): void;
  /** The pool's config version now: a channel opened under another takes no more calls. */
  configVersion(): number;
  /** Whether the pool's app is stopped: its channels take no calls, so that they go where a stopped app's calls get their 404. */
  stopped(): boolean;
  /** Starts a remote call exactly as the HTTP route's createCall does. */
  startRemote(args: CreateCallArgs): Promise<PoolResult<CallOutputs & { callId: string }>>;
  /** Takes one request from the token's rate limit, or throws its 429 (an ApiError). */
  admit(tokenHash: string): void;
  nowMs(): number;
}

/** A channel as its calls are held to: the config version it opened under, when it stops taking calls, what the Worker checked. */
export interface OpenChannel {
  version: number;
  closesAtMs: number;
  opening: ChannelOpening;
}

/** The answer to one call on a channel: its outputs, the HTTP route's error for it, or `reopen`. */
export async function answer(host: ChannelHost, channel: OpenChannel, call: ChannelCall): Promise<ChannelAnswer> {
  if (host.nowMs() >= channel.closesAtMs || host.configVersion() !== channel.version || host.stopped()) return { id: call.id, reopen: true };
  try {
    host.admit(channel.opening.tokenHash);
    const method = checkMethod(channel.opening, call.method);
    const result = await host.startRemote({
      kind: "remote",
      method,
      inputs: [{ idx: 0, args: call.args }],
      closed: true,
      waitMs: call.waitMs,
      requestId: call.requestId,
    });
    if (!result.ok) throw fromPoolError(result.error);
    const response: CreateCallResponse = result.value;
    return { id: call.id, ...response };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { id: call.id, error: { code: err.code, message: err.message, ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) } };
  }
}

/** A frame that is not a call; `id` is the call's number when the frame had a readable one. */
export class ChannelFrameError extends Error {
  constructor(
    readonly id: number | null,
    override readonly cause: ApiError,
  ) {
    super(cause.message);
  }
}

const CALL_KEYS = knownKeys(["id", "requestId", "method", "args", "waitMs"]);

/** A frame as the call it carries, checked as the HTTP route checks a remote's body; throws ChannelFrameError. */
export function readChannelCall(data: ArrayBuffer | string): ChannelCall {
  if (typeof data === "string") throw new ChannelFrameError(null, invalid("a call channel's frames are binary CBOR, not text"));
  const bytes = new Uint8Array(data);
  let value: unknown;
  try {
    value = decodeSimpleMap(bytes, CALL_KEYS) ?? decode(bytes);
  } catch {
    throw new ChannelFrameError(null, invalid("the frame is not valid CBOR"));
  }
  const id = (value as { id?: unknown } | null)?.id;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0)
    throw new ChannelFrameError(null, invalid("the frame is not a call: id must be a whole number ≥ 0"));
  try {
    const call = checked(
      wire.ChannelCall,
      () => value,
      () => quickChannelCall(value as Record<string, unknown>, id),
    );
    checkCallInputs([{ idx: 0, args: call.args }]);
    return call;
  } catch (err) {
    if (err instanceof ApiError) throw new ChannelFrameError(id, err);
    throw err;
  }
}

/** The call, when every field is plainly what the schema wants; null sends the frame to the schema, which words the error. */
function quickChannelCall(value: Record<string, unknown>, id: number): ChannelCall | null {
  const { requestId, method, args, waitMs } = value;
  if (typeof requestId !== "string" || !wire.REQUEST_ID.test(requestId) || !(args instanceof Uint8Array)) return null;
  if (!(typeof waitMs === "number" && Number.isInteger(waitMs) && waitMs >= 0 && waitMs <= wire.MAX_REQUEST_WAIT_MS)) return null;
  if (method === undefined) return { id, requestId, args, waitMs };
  return typeof method === "string" && method.length <= wire.MAX_METHOD_LENGTH ? { id, requestId, method, args, waitMs } : null;
}

/** An answer's frame: one with outputs written by encodeOutputs. A result is at most the runner's frame budget (sdk/src/runner/frames.ts), so an answer fits one WebSocket message. */
export function answerFrame(reply: ChannelAnswer): Uint8Array {
  return ("outputs" in reply && encodeOutputs(reply)) || encode(reply);
}

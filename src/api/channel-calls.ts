// A call channel's frames (sdk/src/wire/channel.ts), without the socket
// (api/call-channel.ts holds it): a frame read and checked as the HTTP route
// it stands for checks its request (a remote's body, a map's inputs, a read
// of outputs), and its answer, from a pool that does what that route's pool
// method does. Pure: the pool is behind ChannelHost.
import type { CreateCallResponse, InputItem } from "../../sdk/src/wire/api";
import {
  CHANNEL_MAX_OUTPUT_BYTES,
  type ChannelAnswer,
  type ChannelCall,
  type ChannelFrame,
  type ChannelGetOutputs,
  type ChannelPutInputs,
} from "../../sdk/src/wire/channel";
import { decode, encode } from "../../sdk/src/wire/serialization";
import { decodeSimpleMap, knownKeys } from "../../sdk/src/wire/simple-cbor";
import type { CallOutputs, CreateCallArgs, PoolConfig, PoolResult } from "../pool/config";
import { ApiError, fromPoolError, invalid } from "../control/errors";
import { checkMethod, checked } from "../control/validation";
import { checkCallInputs, quickPutInputs } from "./call-bodies";
import { MAX_CALL_ID_LENGTH } from "./schemas";
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
  /** Adds a map's inputs exactly as the HTTP route's putInputs does. */
  putInputs(workspaceId: string, callId: string, inputs: InputItem[], closed: boolean, method: string | null): PoolResult<{ admitted: number }>;
  /** Reads a call's outputs as the HTTP route's getOutputs does, stopping at `maxBytes` of values (one output at least). */
  readOutputs(workspaceId: string, callId: string, cursor: number, waitMs: number, maxBytes: number): Promise<PoolResult<CallOutputs>>;
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

/** The answer to one frame on a channel: the HTTP route's answer, its error, or `reopen`. */
export async function answer(host: ChannelHost, channel: OpenChannel, frame: ChannelFrame): Promise<ChannelAnswer> {
  if (host.nowMs() >= channel.closesAtMs || host.configVersion() !== channel.version || host.stopped()) return { id: frame.id, reopen: true };
  try {
    host.admit(channel.opening.tokenHash);
    if (!("op" in frame)) return { id: frame.id, ...(await startRemote(host, channel, frame)) };
    const { workspaceId } = channel.opening.config;
    if (frame.op === "putInputs") {
      const result = host.putInputs(workspaceId, frame.callId, frame.inputs, frame.closed, frame.method ?? null);
      if (!result.ok) throw fromPoolError(result.error);
      return { id: frame.id, ...result.value };
    }
    const result = await host.readOutputs(workspaceId, frame.callId, frame.cursor, frame.waitMs, CHANNEL_MAX_OUTPUT_BYTES);
    if (!result.ok) throw fromPoolError(result.error);
    return { id: frame.id, ...result.value };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { id: frame.id, error: { code: err.code, message: err.message, ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) } };
  }
}

async function startRemote(host: ChannelHost, channel: OpenChannel, call: ChannelCall): Promise<CreateCallResponse> {
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
  return result.value;
}

/** A frame that is not one the channel takes; `id` is the frame's number when it had a readable one. */
export class ChannelFrameError extends Error {
  constructor(
    readonly id: number | null,
    override readonly cause: ApiError,
  ) {
    super(cause.message);
  }
}

/** Strings the frames repeat, keys and `op`'s values: matched by their bytes instead of decoded each time. */
const FRAME_KEYS = knownKeys(["id", "op", "requestId", "method", "args", "waitMs", "callId", "inputs", "closed", "idx", "cursor", "putInputs", "getOutputs"]);

/** A frame as what it asks for, checked as the HTTP route it stands for checks its request; throws ChannelFrameError. */
export function readChannelFrame(data: ArrayBuffer | string): ChannelFrame {
  if (typeof data === "string") throw new ChannelFrameError(null, invalid("a call channel's frames are binary CBOR, not text"));
  const bytes = new Uint8Array(data);
  let value: unknown;
  try {
    value = decodeSimpleMap(bytes, FRAME_KEYS) ?? decode(bytes);
  } catch {
    throw new ChannelFrameError(null, invalid("the frame is not valid CBOR"));
  }
  const id = (value as { id?: unknown } | null)?.id;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0)
    throw new ChannelFrameError(null, invalid("the frame is not a call: id must be a whole number ≥ 0"));
  const fields = value as Record<string, unknown>;
  try {
    switch (fields.op) {
      case undefined: {
        const call = checked(
          wire.ChannelCall,
          () => value,
          () => quickChannelCall(fields, id),
        );
        checkCallInputs([{ idx: 0, args: call.args }]);
        return call;
      }
      case "putInputs": {
        const put = checked(
          wire.ChannelPutInputs,
          () => value,
          () => quickChannelPut(fields, id),
        );
        checkCallInputs(put.inputs);
        return put;
      }
      case "getOutputs":
        return checked(
          wire.ChannelGetOutputs,
          () => value,
          () => quickChannelRead(fields, id),
        );
      default:
        throw invalid(`op: a channel frame is a remote call (no op), "putInputs" or "getOutputs", not ${JSON.stringify(fields.op)}`.slice(0, 200));
    }
  } catch (err) {
    if (err instanceof ApiError) throw new ChannelFrameError(id, err);
    throw err;
  }
}

/** The call, when every field is plainly what the schema wants; null sends the frame to the schema, which words the error. */
function quickChannelCall(value: Record<string, unknown>, id: number): ChannelCall | null {
  const { requestId, method, args, waitMs } = value;
  if (typeof requestId !== "string" || !wire.REQUEST_ID.test(requestId) || !(args instanceof Uint8Array)) return null;
  if (!isWaitMs(waitMs)) return null;
  if (method === undefined) return { id, requestId, args, waitMs };
  return typeof method === "string" && method.length <= wire.MAX_METHOD_LENGTH ? { id, requestId, method, args, waitMs } : null;
}

function quickChannelPut(value: Record<string, unknown>, id: number): ChannelPutInputs | null {
  const { callId } = value;
  const body = quickPutInputs(value);
  if (!isCallId(callId) || body === null) return null;
  return { id, op: "putInputs", callId, ...body };
}

function quickChannelRead(value: Record<string, unknown>, id: number): ChannelGetOutputs | null {
  const { callId, cursor, waitMs } = value;
  if (!isCallId(callId) || !isWaitMs(waitMs) || !(typeof cursor === "number" && Number.isSafeInteger(cursor) && cursor >= 0)) return null;
  return { id, op: "getOutputs", callId, cursor, waitMs };
}

const isCallId = (callId: unknown): callId is string => typeof callId === "string" && callId.length <= MAX_CALL_ID_LENGTH;
const isWaitMs = (waitMs: unknown): waitMs is number =>
  typeof waitMs === "number" && Number.isInteger(waitMs) && waitMs >= 0 && waitMs <= wire.MAX_REQUEST_WAIT_MS;

/** An answer's frame: one with outputs written by encodeOutputs. A result is at most the runner's frame budget (sdk/src/runner/frames.ts), so an answer fits one WebSocket message. */
export function answerFrame(reply: ChannelAnswer): Uint8Array {
  return ("outputs" in reply && encodeOutputs(reply)) || encode(reply);
}

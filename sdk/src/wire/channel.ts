// The call channel (GET /v1/functions/:functionId/channel, a WebSocket): a
// client in Node keeps one open to each pool it calls and starts its
// `.remote()` calls on it, one CBOR frame each way, instead of one HTTP
// request per call; a map of the pool puts its inputs and reads its outputs
// on it too. The channel ends at the pool: no HTTP request, Worker
// invocation or RPC per frame. The HTTP routes stay the contract; a frame
// whose answer a channel loses is sent again there: a call with the same
// request id, which finds the call the frame started; a map's inputs, which
// are admitted once by idx; a read of outputs, from the same cursor.
import type { CreateCallResponse, ErrorBody, GetOutputsResponse, InputItem, PutInputsResponse } from "./api.js";

/** Client → pool: one remote call of the channel's pool (CreateCallRequest's remote fields). */
export interface ChannelCall {
  /** Numbers the channel's calls (0, 1, …), so that their answers can come in any order. */
  id: number;
  /** As CreateCallRequest's: the same request sent again, here or over HTTP, gets the call the first one started. */
  requestId: string;
  /** For a class instance's pool: the method to call. */
  method?: string;
  /** CBOR of the argument list. */
  args: Uint8Array;
  /** How long the pool may wait for the output before answering without it. */
  waitMs: number;
}

/** Client → pool: more inputs of one of the pool's map calls, as PUT /v1/calls/:callId/inputs takes them. */
export interface ChannelPutInputs {
  id: number;
  op: "putInputs";
  callId: string;
  inputs: InputItem[];
  closed: boolean;
  method?: string;
}

/** Client → pool: one of the pool's map calls' outputs after `cursor`, as GET /v1/calls/:callId/outputs reads them. */
export interface ChannelGetOutputs {
  id: number;
  op: "getOutputs";
  callId: string;
  cursor: number;
  waitMs: number;
}

/** Any frame a client sends: a frame without `op` is a remote call (the channel's first and only kind before maps). */
export type ChannelFrame = ChannelCall | ChannelPutInputs | ChannelGetOutputs;

/**
 * Pool → client, for the frame numbered `id`: its answer (as the HTTP
 * route's: CreateCallResponse, PutInputsResponse or GetOutputsResponse), the
 * error the HTTP route would have answered, or `reopen`: this channel takes
 * no more frames (the pool was deployed or retuned since it opened, its app
 * was stopped, or it outlived its token check) and nothing was done: send
 * the frame again (the SDK sends it over HTTP, and the ones after it on a new
 * channel).
 */
export type ChannelAnswer =
  ({ id: number } & (CreateCallResponse | PutInputsResponse | GetOutputsResponse)) | { id: number; error: ErrorBody["error"] } | { id: number; reopen: true };

/**
 * A channel checks its token once, when it opens: past this age it takes no
 * more calls (they are answered `reopen`), so that a revoked token stops
 * working on a channel about as soon as over HTTP, where token lookups are
 * cached as long.
 */
export const CHANNEL_LIFETIME_MS = 30_000;

/**
 * Arguments larger than this (a call's, or a batch of a map's inputs
 * together) go over HTTP: a WebSocket message on Cloudflare is at most 1 MiB,
 * and a large body gains nothing from the channel.
 */
export const CHANNEL_MAX_ARGS_BYTES = 512 * 1024;

/**
 * Outputs a read on a channel answers with, in bytes of values: it stops
 * before the output that would pass this (one output is always answered; a
 * runner's frame budget keeps it under 1 MiB), where over HTTP it stops at a
 * count alone.
 */
export const CHANNEL_MAX_OUTPUT_BYTES = 512 * 1024;

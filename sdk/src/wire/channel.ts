// The call channel (GET /v1/functions/:functionId/channel, a WebSocket): a
// client in Node keeps one open to each pool it calls and starts its
// `.remote()` calls on it, one CBOR frame each way, instead of one HTTP
// request per call. The channel ends at the pool: no HTTP request, Worker
// invocation or RPC per call. The HTTP route stays the contract; a call
// whose answer a channel loses is sent again there with the same request id,
// which finds the call the frame started.
import type { CreateCallResponse, ErrorBody } from "./api.js";

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

/**
 * Pool → client, for the call numbered `id`: its answer (as the HTTP route's
 * CreateCallResponse), the error the HTTP route would have answered, or
 * `reopen`: this channel takes no more calls (the pool was deployed or
 * retuned since it opened, its app was stopped, or it outlived its token
 * check) and nothing was started: send the call again (the SDK sends it over
 * HTTP, and the calls after it on a new channel).
 */
export type ChannelAnswer = ({ id: number } & CreateCallResponse) | { id: number; error: ErrorBody["error"] } | { id: number; reopen: true };

/**
 * A channel checks its token once, when it opens: past this age it takes no
 * more calls (they are answered `reopen`), so that a revoked token stops
 * working on a channel about as soon as over HTTP, where token lookups are
 * cached as long.
 */
export const CHANNEL_LIFETIME_MS = 30_000;

/**
 * Arguments larger than this go over HTTP: a WebSocket message on Cloudflare
 * is at most 1 MiB, and a large body gains nothing from the channel.
 */
export const CHANNEL_MAX_ARGS_BYTES = 512 * 1024;

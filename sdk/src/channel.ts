// `.remote()` and maps over call channels (wire/channel.ts): one WebSocket
// per pool a client calls, opened when the first frame would go out (which
// itself goes over HTTP, so a single call never waits for a channel) and
// kept while frames follow. Only the Node entry can open one (node-channel.ts
// installs the opener); everywhere else, and whenever a channel cannot take
// a frame, its request goes over HTTP. A call whose channel closes before its
// answer comes goes over HTTP with the same request id, which finds the call
// the frame started, if it did: one run either way. A map's inputs sent
// again are admitted once (by idx), and a read of outputs is one again from
// the same cursor.
import type { CreateCallResponse, GetOutputsResponse, PutInputsResponse } from "./wire/api.js";
import {
  CHANNEL_LIFETIME_MS,
  CHANNEL_MAX_ARGS_BYTES,
  type ChannelAnswer,
  type ChannelCall,
  type ChannelFrame,
  type ChannelGetOutputs,
  type ChannelPutInputs,
} from "./wire/channel.js";
import { decode, encode } from "./wire/serialization.js";
import { errorFromApi } from "./errors.js";

/** A WebSocket as a channel uses it. */
export interface ChannelSocket {
  send(bytes: Uint8Array): void;
  close(): void;
  /** Drops the connection at once, without a closing handshake a dead peer would never answer. */
  abort(): void;
  /** Whether the socket keeps the process alive: only while a call waits for its answer. */
  hold(held: boolean): void;
}

export interface ChannelEvents {
  open(): void;
  message(bytes: Uint8Array): void;
  /** The socket closed, failed or could not open (called once); `refused` when the platform answered the upgrade with an HTTP error. */
  close(refused?: boolean): void;
}

/** Opens a WebSocket to `url` with the token as its bearer credential. */
export type ChannelOpener = (url: URL, token: string, events: ChannelEvents) => ChannelSocket;

let opener: ChannelOpener | null = null;

/** Lets clients open call channels (the Node entry installs a `ws` opener). */
export function setChannelOpener(open: ChannelOpener): void {
  opener = open;
}

/**
 * A channel stops taking calls a little before the pool would answer them
 * `reopen` (CHANNEL_LIFETIME_MS), so that a steady stream of calls rarely
 * sees one; the next call opens its successor.
 */
const RETIRE_AFTER_MS = CHANNEL_LIFETIME_MS - 5_000;
/** A channel no call has used for this long is closed: an open one keeps its pool in memory. */
const IDLE_CLOSE_MS = 10_000;
/** After the platform refused a channel (an older one has no channel route; a proxy may not pass WebSockets), calls to its pool go over HTTP this long. */
const REFUSED_RETRY_MS = 60_000;
/** After a channel could not connect (the network), the next try waits this long: its calls go over HTTP meanwhile. */
const FAILED_RETRY_MS = 1_000;
/**
 * The pool answers a call within its waitMs, output or not. A channel that
 * leaves a call unanswered this long past it has lost its connection without
 * a word (a NAT or a proxy dropped it): it is dropped, and its calls go over HTTP.
 */
const ANSWER_GRACE_MS = 5_000;

/** Error codes a channel answers with that HTTP's retries handle (5xx): such a call goes over HTTP. */
const RETRIED_OVER_HTTP = new Set(["INTERNAL", "UNAVAILABLE"]);

/** A frame before the channel numbers it. */
type Unnumbered<F> = F extends unknown ? Omit<F, "id"> : never;
/** An answer the channel did not take back (`reopen` is handled where frames go out). */
type Answered = Exclude<ChannelAnswer, { reopen: true }>;

/** A client's call channels, one per pool (a function, a class instance, a variant). */
export class CallChannels {
  private readonly channels = new Map<string, CallChannel>();
  private readonly refusedUntilMs = new Map<string, number>();

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  /**
   * Starts a remote call on the channel of the pool at `path` (the channel
   * route's path and query) and returns its answer; throws the error the
   * HTTP route would have answered. Null when the call should go over HTTP
   * instead: no channel is open yet (this call opens one), the channel was
   * refused or closed before the answer came, or it is retiring.
   */
  async call(path: string, call: Omit<ChannelCall, "id">): Promise<CreateCallResponse | null> {
    if (call.args.byteLength > CHANNEL_MAX_ARGS_BYTES) return null;
    const answer = await this.exchange(path, call, call.waitMs);
    if (answer === null) return null;
    if ("error" in answer) {
      const { code, message, retryAfterMs } = answer.error;
      if (RETRIED_OVER_HTTP.has(code)) return null;
      throw errorFromApi(0, code, message, retryAfterMs);
    }
    if (!("callId" in answer)) return null;
    return { callId: answer.callId, outputs: answer.outputs, cursor: answer.cursor, done: answer.done };
  }

  /**
   * Adds a map's inputs on the channel of the pool at `path`; null when they
   * are to go over HTTP, as above, and on any error: the HTTP route answers
   * it again, with the retries and waits the map's requests have there.
   */
  async putInputs(path: string, put: Omit<ChannelPutInputs, "id" | "op">): Promise<PutInputsResponse | null> {
    let bytes = 0;
    for (const input of put.inputs) bytes += input.args.byteLength;
    if (bytes > CHANNEL_MAX_ARGS_BYTES) return null;
    const answer = await this.exchange(path, { op: "putInputs", ...put }, 0);
    return answer !== null && "admitted" in answer ? { admitted: answer.admitted } : null;
  }

  /** Reads a map's outputs on the channel of the pool at `path`; null as for putInputs. */
  async getOutputs(path: string, read: Omit<ChannelGetOutputs, "id" | "op">): Promise<GetOutputsResponse | null> {
    const answer = await this.exchange(path, { op: "getOutputs", ...read }, read.waitMs);
    return answer !== null && "outputs" in answer && !("callId" in answer) ? { outputs: answer.outputs, cursor: answer.cursor, done: answer.done } : null;
  }

  /** The frame's answer on the pool's channel; null when it is to go over HTTP (no channel open yet: this opens one). */
  private async exchange(path: string, frame: Unnumbered<ChannelFrame>, waitMs: number): Promise<Answered | null> {
    if (!opener) return null;
    // A channel leaves this map as it closes: one here is opening, open or retiring.
    const channel = this.channels.get(path);
    if (!channel || !channel.usable()) {
      if (!channel || channel.retiring()) {
        channel?.retire();
        this.open(path, opener);
      }
      return null;
    }
    const answer = await channel.send(frame, waitMs);
    if (answer === null) return null;
    if ("reopen" in answer) {
      channel.retire();
      return null;
    }
    return answer;
  }

  private open(path: string, open: ChannelOpener): void {
    if ((this.refusedUntilMs.get(path) ?? 0) > Date.now()) return;
    const channel = new CallChannel(new URL(this.url + path), this.token, open, (opened, refused) => {
      if (this.channels.get(path) === channel) this.channels.delete(path);
      if (!opened) this.refusedUntilMs.set(path, Date.now() + (refused ? REFUSED_RETRY_MS : FAILED_RETRY_MS));
    });
    this.channels.set(path, channel);
  }
}

/** One WebSocket to one pool: calls numbered in order, answers matched by number. */
class CallChannel {
  private nextId = 0;
  private readonly waiting = new Map<number, { settle: (answer: ChannelAnswer | null) => void; deadline: ReturnType<typeof setTimeout> }>();
  private readonly socket: ChannelSocket;
  private readonly openedAtMs = Date.now();
  private state: "opening" | "open" | "closed" = "opening";
  private retired = false;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(url: URL, token: string, open: ChannelOpener, onClosed: (opened: boolean, refused: boolean) => void) {
    this.socket = open(url, token, {
      open: () => {
        this.state = "open";
        this.idle();
      },
      message: (bytes) => this.answered(bytes),
      close: (refused = false) => {
        const opened = this.state !== "opening";
        this.state = "closed";
        this.stopIdle();
        for (const { settle, deadline } of this.waiting.values()) {
          clearTimeout(deadline);
          settle(null);
        }
        this.waiting.clear();
        onClosed(opened, refused);
      },
    });
  }

  usable(): boolean {
    return this.state === "open" && !this.retiring();
  }

  /** Past its age for new calls (it still answers those in flight). */
  retiring(): boolean {
    return this.retired || Date.now() - this.openedAtMs >= RETIRE_AFTER_MS;
  }

  /** Takes no more calls, and closes once those in flight are answered. */
  retire(): void {
    this.retired = true;
    if (this.waiting.size === 0) this.socket.close();
  }

  /** The frame's answer (the pool answers within waitMs); null when the channel closed first. */
  send(unnumbered: Unnumbered<ChannelFrame>, waitMs: number): Promise<ChannelAnswer | null> {
    const frame = { id: this.nextId++, ...unnumbered } as ChannelFrame;
    return new Promise((resolve) => {
      const deadline = setTimeout(() => this.socket.abort(), waitMs + ANSWER_GRACE_MS);
      unref(deadline);
      this.waiting.set(frame.id, { settle: resolve, deadline });
      this.stopIdle();
      this.socket.hold(true);
      try {
        this.socket.send(encode(frame));
      } catch {
        clearTimeout(deadline);
        this.waiting.delete(frame.id);
        resolve(null);
        this.socket.abort();
      }
    });
  }

  private answered(bytes: Uint8Array): void {
    let answer: ChannelAnswer;
    try {
      answer = decode<ChannelAnswer>(bytes);
    } catch {
      // Not ours to read: every call in flight goes over HTTP.
      this.socket.abort();
      return;
    }
    const waiting = this.waiting.get(answer.id);
    if (!waiting) return;
    this.waiting.delete(answer.id);
    clearTimeout(waiting.deadline);
    waiting.settle(answer);
    if (this.waiting.size > 0) return;
    this.socket.hold(false);
    if (this.retired) this.socket.close();
    else this.idle();
  }

  private idle(): void {
    this.stopIdle();
    this.idleTimer = setTimeout(() => this.retire(), IDLE_CLOSE_MS);
    unref(this.idleTimer);
  }

  private stopIdle(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}

/** A channel's timers alone must not keep the process alive (Node's unref; other runtimes have none). */
function unref(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}

// A Client keeps its channels here (none for a service binding), like its Http.
const channelsOfOwner = new WeakMap<object, CallChannels>();

export function attachChannels(owner: object, channels: CallChannels): void {
  channelsOfOwner.set(owner, channels);
}

export function channelsOf(owner: object): CallChannels | null {
  return channelsOfOwner.get(owner) ?? null;
}

// The SDK's call channels (sdk/src/channel.ts, node-channel.ts) against a
// scripted pool: a `ws` server that answers each call frame as the test says.
import { once } from "node:events";
import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WebSocketServer, type WebSocket } from "ws";
import "../../../sdk/src/node-channel";
import { CallChannels } from "../../../sdk/src/channel";
import { NotFoundError, ResourceExhaustedError } from "../../../sdk/src/errors";
import type { ChannelAnswer, ChannelCall, ChannelFrame } from "../../../sdk/src/wire/channel";
import { decode, encode } from "../../../sdk/src/wire/serialization";

const PATH = "/v1/functions/fn-1/channel";
const call = (n: number): Omit<ChannelCall, "id"> => ({ requestId: `request-${n}-abcdef`, args: encode([n]), waitMs: 25_000 });
const answer = (id: number, n: number): ChannelAnswer => ({
  id,
  callId: `call-${n}`,
  outputs: [{ idx: 0, status: "success", value: encode(n * n) }],
  cursor: 0,
  done: true,
});

/** A pool's end of channels: what each frame gets is up to `respond` (nothing, when it returns undefined). */
class ScriptedPool {
  readonly server: WebSocketServer;
  readonly upgrades: Array<{ url: string; authorization: string | undefined }> = [];
  readonly frames: ChannelFrame[] = [];
  /** By default a remote call is answered with its argument squared; a map's frames only as a test says. */
  respond: (frame: ChannelFrame, ws: WebSocket) => ChannelAnswer | undefined = (f) => ("op" in f ? undefined : answer(f.id, decode<number[]>(f.args)[0]));
  refuse = false;

  constructor() {
    this.server = new WebSocketServer({
      host: "127.0.0.1",
      port: 0,
      verifyClient: (info, done) => {
        this.upgrades.push({ url: info.req.url ?? "", authorization: info.req.headers.authorization });
        if (this.refuse) done(false, 404, "Not Found");
        else done(true);
      },
    });
    this.server.on("connection", (ws) => {
      ws.on("message", (data: Buffer) => {
        const frame = decode<ChannelFrame>(new Uint8Array(data));
        this.frames.push(frame);
        const a = this.respond(frame, ws);
        if (a) ws.send(encode(a));
      });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
}

let pool: ScriptedPool;
let channels: CallChannels;

beforeEach(async () => {
  pool = new ScriptedPool();
  await once(pool.server, "listening");
  channels = new CallChannels(pool.url, "token-1");
});
afterEach(async () => {
  for (const ws of pool.server.clients) ws.terminate();
  await new Promise((resolve) => pool.server.close(resolve));
});

/** The first call opens the channel (and goes over HTTP: null); this waits until the channel is open. */
async function opened(): Promise<void> {
  expect(await channels.call(PATH, call(0))).toBeNull();
  await expect.poll(() => pool.server.clients.size).toBe(1);
  await new Promise((resolve) => setTimeout(resolve, 20));
}

describe("call channels", () => {
  it("send a pool's first call over HTTP while its channel opens, with the token; the next calls go on the channel", async () => {
    await opened();
    expect(pool.upgrades).toEqual([{ url: PATH, authorization: "Bearer token-1" }]);
    const res = await channels.call(PATH, call(3));
    expect(res).toMatchObject({ callId: "call-3", outputs: [{ idx: 0, status: "success" }], cursor: 0, done: true });
    expect(decode(res!.outputs[0].value)).toBe(9);
    expect(pool.frames).toMatchObject([{ id: 0, requestId: call(3).requestId, waitMs: 25_000 }]);
    expect(decode((pool.frames[0] as ChannelCall).args)).toEqual([3]);
  });

  it("match answers to calls by their id, in whatever order they come", async () => {
    await opened();
    const held: Array<{ frame: ChannelCall; ws: WebSocket }> = [];
    pool.respond = (frame, ws) => {
      held.push({ frame: frame as ChannelCall, ws });
      if (held.length === 2) for (const h of held.reverse()) h.ws.send(encode(answer(h.frame.id, decode<number[]>(h.frame.args)[0])));
      return undefined;
    };
    const [a, b] = await Promise.all([channels.call(PATH, call(4)), channels.call(PATH, call(5))]);
    expect(a?.callId).toBe("call-4");
    expect(b?.callId).toBe("call-5");
  });

  it("throw the error a pool answers, as over HTTP; an internal error sends the call over HTTP, whose retries handle it", async () => {
    await opened();
    pool.respond = (c) => ({ id: c.id, error: { code: "NOT_FOUND", message: "function f was removed" } });
    await expect(channels.call(PATH, call(1))).rejects.toThrow(NotFoundError);
    pool.respond = (c) => ({ id: c.id, error: { code: "RESOURCE_EXHAUSTED", message: "too many", retryAfterMs: 250 } });
    const exhausted = await channels.call(PATH, call(2)).catch((e: unknown) => e);
    expect(exhausted).toBeInstanceOf(ResourceExhaustedError);
    expect((exhausted as ResourceExhaustedError).retryAfterMs).toBe(250);
    pool.respond = (c) => ({ id: c.id, error: { code: "INTERNAL", message: "internal error" } });
    expect(await channels.call(PATH, call(3))).toBeNull();
  });

  it("on reopen send the call over HTTP and open a new channel for the next ones", async () => {
    await opened();
    pool.respond = (c) => ({ id: c.id, reopen: true });
    expect(await channels.call(PATH, call(1))).toBeNull();
    pool.respond = (c) => answer(c.id, 2);
    expect(await channels.call(PATH, call(2))).toBeNull(); // the new channel is opening
    await expect.poll(() => pool.upgrades.length).toBe(2);
    await expect.poll(async () => (await channels.call(PATH, call(2)))?.callId).toBe("call-2");
  });

  it("hand a call to HTTP when the channel closes before its answer", async () => {
    await opened();
    pool.respond = (_, ws) => {
      ws.terminate();
      return undefined;
    };
    expect(await channels.call(PATH, call(1))).toBeNull();
  });

  it("drop a channel that leaves a call unanswered well past its wait (a connection lost without a word), and send the call over HTTP", async () => {
    await opened();
    pool.respond = () => undefined;
    const started = Date.now();
    expect(await channels.call(PATH, { ...call(1), waitMs: 0 })).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(5_000);
    await expect.poll(() => pool.server.clients.size).toBe(0);
  }, 15_000);

  it("send calls over HTTP for a while after a pool refused a channel, without asking again on each call", async () => {
    pool.refuse = true;
    expect(await channels.call(PATH, call(1))).toBeNull();
    await expect.poll(() => pool.upgrades.length).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (let i = 0; i < 5; i++) expect(await channels.call(PATH, call(i))).toBeNull();
    expect(pool.upgrades).toHaveLength(1);
  });

  it("send large arguments over HTTP", async () => {
    await opened();
    expect(await channels.call(PATH, { ...call(1), args: new Uint8Array(600 * 1024) })).toBeNull();
    expect(pool.frames).toEqual([]);
  });

  it("keep no process alive: a script whose calls went on a channel ends when its work does", async () => {
    const script = join(import.meta.dirname, "../fixtures/channel-script.ts");
    const child = spawn(process.execPath, ["--import", "tsx", script, pool.url], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const started = Date.now();
    const [code] = (await once(child, "exit")) as [number];
    expect(code).toBe(0);
    expect(out.trim()).toBe("call-7");
    // Well under the channel's 10 s idle close: the open socket did not hold the process.
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});

describe("a map's frames on a call channel", () => {
  const inputs = (from: number, n: number, bytes = 8) => Array.from({ length: n }, (_, k) => ({ idx: from + k, args: new Uint8Array(bytes) }));
  const read = { callId: "fc-a-1", cursor: 5, waitMs: 25_000 };

  it("put a map's inputs and read its outputs on the pool's channel, answered as the HTTP routes answer", async () => {
    await opened();
    pool.respond = (f) => {
      if (!("op" in f)) return undefined;
      if (f.op === "putInputs") return { id: f.id, admitted: f.inputs.length };
      return { id: f.id, outputs: [{ idx: 3, status: "success", value: encode(9) }], cursor: f.cursor + 1, done: false };
    };
    expect(await channels.putInputs(PATH, { callId: "fc-a-1", inputs: inputs(0, 3), closed: true })).toEqual({ admitted: 3 });
    const outputs = await channels.getOutputs(PATH, read);
    expect(outputs).toMatchObject({ outputs: [{ idx: 3, status: "success" }], cursor: 6, done: false });
    expect(decode(outputs!.outputs[0].value)).toBe(9);
    expect(pool.frames).toMatchObject([
      { id: 0, op: "putInputs", callId: "fc-a-1", inputs: [{ idx: 0 }, { idx: 1 }, { idx: 2 }], closed: true },
      { id: 1, op: "getOutputs", callId: "fc-a-1", cursor: 5, waitMs: 25_000 },
    ]);
  });

  it("send a map's frame over HTTP, whose answer and retries are the contract, on any error the pool answers and on reopen", async () => {
    await opened();
    pool.respond = (f) => ({ id: f.id, error: { code: "RESOURCE_EXHAUSTED", message: "the backlog is full", retryAfterMs: 100 } });
    expect(await channels.putInputs(PATH, { callId: "fc-a-1", inputs: inputs(0, 1), closed: false })).toBeNull();
    pool.respond = (f) => ({ id: f.id, error: { code: "NOT_FOUND", message: "call fc-a-1 not found" } });
    expect(await channels.getOutputs(PATH, read)).toBeNull();
    pool.respond = (f) => ({ id: f.id, reopen: true });
    expect(await channels.getOutputs(PATH, read)).toBeNull();
    expect(await channels.getOutputs(PATH, read)).toBeNull(); // the new channel is opening
    await expect.poll(() => pool.upgrades.length).toBe(2);
  });

  it("send a batch of inputs over HTTP when their arguments together are too large for one message", async () => {
    await opened();
    expect(await channels.putInputs(PATH, { callId: "fc-a-1", inputs: inputs(0, 3, 200 * 1024), closed: false })).toBeNull();
    expect(pool.frames).toEqual([]);
  });
});

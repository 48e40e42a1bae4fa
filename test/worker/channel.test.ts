// Call channels (sdk/src/wire/channel.ts, src/api/call-channel.ts) against
// the real Worker and pool, with fake runners: the door checks what any
// request is checked for, each frame is a remote call checked and started as
// the HTTP route's, and a channel opened under one deployment takes no calls
// after the next.
import { describe, expect, it } from "vitest";
import { SELF } from "cloudflare:test";
import type { ChannelAnswer } from "../../sdk/src/wire/channel";
import { bytesToBase64url } from "../../sdk/src/wire/base64url";
import { decode, encode } from "../../sdk/src/wire/serialization";
import { BASE, api, deploy, errorOf, manifest, newWorkspace } from "./helpers";
import { setUp } from "./map-harness";

/** An open channel to a pool: send a call, get the answer with its id. */
async function openChannel(token: string, functionId: string, query = "") {
  const res = await SELF.fetch(`${BASE}/v1/functions/${functionId}/channel${query}`, { headers: { authorization: `Bearer ${token}`, upgrade: "websocket" } });
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  ws.accept();
  (ws as WebSocket & { binaryType: string }).binaryType = "arraybuffer";
  const answers = new Map<number, (a: ChannelAnswer) => void>();
  let closed: { code: number; reason: string } | null = null;
  ws.addEventListener("message", (event) => {
    const answer = decode<ChannelAnswer>(new Uint8Array(event.data as ArrayBuffer));
    answers.get(answer.id)?.(answer);
  });
  ws.addEventListener("close", (event) => {
    closed = { code: event.code, reason: event.reason };
  });
  return {
    ws,
    closed: () => closed,
    /** Sends `frame` (a call's fields, or anything) and waits for the answer to `id`. */
    send(id: number, frame: unknown): Promise<ChannelAnswer> {
      const answered = new Promise<ChannelAnswer>((resolve) => answers.set(id, resolve));
      ws.send(frame instanceof Uint8Array || typeof frame === "string" ? frame : encode(frame));
      return answered;
    },
  };
}

const call = (id: number, x: number, requestId = `request-${id}-${crypto.randomUUID()}`) => ({ id, requestId, args: encode([x]), waitMs: 20_000 });

describe("a call channel", () => {
  it("starts each frame's remote call and answers with its output; the same request id over HTTP finds the call", async () => {
    const pool = await setUp("channel-calls", {});
    const channel = await openChannel(pool.token, pool.functionId);
    const first = call(0, 3);
    const [a, b] = await Promise.all([channel.send(0, first), channel.send(1, call(1, 4))]);
    expect(a).toMatchObject({ id: 0, done: true });
    expect(b).toMatchObject({ id: 1, done: true });
    if (!("callId" in a) || !("outputs" in b)) throw new Error("expected a started call's outputs");
    expect(decode(a.outputs[0].value)).toBe(9);
    expect(decode(b.outputs[0].value)).toBe(16);
    // Sent again over HTTP (as the SDK does when a channel drops): the call the frame started, not a second one.
    const again = await api(pool.token).cbor(`/v1/functions/${pool.functionId}/calls`, {
      kind: "remote",
      inputs: [{ idx: 0, args: first.args }],
      closed: true,
      waitMs: 1_000,
      requestId: first.requestId,
    });
    expect(decode<{ callId: string }>(new Uint8Array(await again.arrayBuffer())).callId).toBe(a.callId);
    // A client's close is answered: the closing handshake completes.
    channel.ws.close(1000, "done");
    await expect.poll(() => channel.closed()?.code).toBe(1000);
  });

  it("is opened only by a WebSocket upgrade with a token of the function's workspace", async () => {
    const pool = await setUp("channel-door", {});
    const path = `${BASE}/v1/functions/${pool.functionId}/channel`;
    const noToken = await SELF.fetch(path, { headers: { upgrade: "websocket" } });
    expect(noToken.status).toBe(401);
    const stranger = await newWorkspace("channel-stranger");
    const elsewhere = await SELF.fetch(path, { headers: { authorization: `Bearer ${stranger}`, upgrade: "websocket" } });
    expect(elsewhere.status).toBe(404);
    const plain = await api(pool.token).get(`/v1/functions/${pool.functionId}/channel`);
    expect(plain.status).toBe(400);
    expect((await errorOf(plain)).message).toContain("Upgrade: websocket");
  });

  it("answers a call with a bad field with the HTTP route's 400, naming the field, and closes on a frame that is no call", async () => {
    const pool = await setUp("channel-frames", {});
    const channel = await openChannel(pool.token, pool.functionId);
    const bad = await channel.send(0, { ...call(0, 1), requestId: "short" });
    expect(bad).toMatchObject({ id: 0, error: { code: "INVALID_ARGUMENT" } });
    expect("error" in bad && bad.error.message).toContain("requestId");
    const big = await channel.send(1, { ...call(1, 1), args: new Uint8Array(2_000_001) });
    expect(big).toMatchObject({ id: 1, error: { code: "PAYLOAD_TOO_LARGE" } });
    const fine = await channel.send(2, call(2, 5));
    expect(fine).toMatchObject({ id: 2, done: true });
    channel.ws.send("not a call");
    await expect.poll(() => channel.closed()?.code).toBe(1007);
    expect(channel.closed()?.reason).toContain("binary CBOR");
  });

  it("checks a class's method on each call", async () => {
    const token = await newWorkspace("channel-class");
    const res = await deploy(token, manifest("channel-class", [{ name: "Model", kind: "class", methods: ["predict"] }]));
    const functionId = ((await res.json()) as { functions: Array<{ functionId: string }> }).functions[0].functionId;
    const channel = await openChannel(token, functionId, `?params=${bytesToBase64url(encode({ size: 1 }))}`);
    const none = await channel.send(0, call(0, 1));
    expect(none).toMatchObject({ id: 0, error: { code: "INVALID_ARGUMENT" } });
    expect("error" in none && none.error.message).toContain("name the method");
    const unknown = await channel.send(1, { ...call(1, 1), method: "train" });
    expect(unknown).toMatchObject({ id: 1, error: { code: "NOT_FOUND" } });
    expect("error" in unknown && unknown.error.message).toContain("predict");
  });

  it("takes no calls once its pool is deployed again: they are answered reopen, and a new channel runs them", async () => {
    const pool = await setUp("channel-deploy", {});
    const channel = await openChannel(pool.token, pool.functionId);
    expect(await channel.send(0, call(0, 2))).toMatchObject({ id: 0, done: true });
    const redeployed = await deploy(pool.token, manifest("channel-deploy", [{ name: "f", options: { maxContainers: 2 } }]));
    expect(redeployed.status).toBe(201);
    expect(await channel.send(1, call(1, 2))).toEqual({ id: 1, reopen: true });
    const next = await openChannel(pool.token, pool.functionId);
    expect(await next.send(0, call(0, 6))).toMatchObject({ id: 0, done: true });
  });

  it("adds a map's inputs and reads its outputs as the HTTP routes do: a batch sent again is admitted once, another pool's or workspace's call is not found", async () => {
    const pool = await setUp("channel-map", { concurrent: { maxInputs: 10 } });
    const created = await api(pool.token).cbor(`/v1/functions/${pool.functionId}/calls`, {
      kind: "map",
      inputs: [{ idx: 0, args: encode([2]) }],
      closed: false,
      waitMs: 0,
    });
    const { callId } = decode<{ callId: string }>(new Uint8Array(await created.arrayBuffer()));
    const channel = await openChannel(pool.token, pool.functionId);
    const put = (id: number, from: number, n: number, closed: boolean) => ({
      id,
      op: "putInputs",
      callId,
      inputs: Array.from({ length: n }, (_, k) => ({ idx: from + k, args: encode([from + k + 2]) })),
      closed,
    });
    expect(await channel.send(0, put(0, 1, 2, false))).toEqual({ id: 0, admitted: 2 });
    expect(await channel.send(1, put(1, 1, 2, false))).toEqual({ id: 1, admitted: 0 });
    expect(await channel.send(2, put(2, 3, 1, true))).toEqual({ id: 2, admitted: 1 });
    expect(await channel.send(3, put(3, 4, 1, true))).toMatchObject({ id: 3, error: { code: "CONFLICT", message: expect.stringContaining("closed") } });
    const seen: Array<[number, unknown]> = [];
    let cursor = 0;
    for (let id = 10; ; id++) {
      const answer = await channel.send(id, { id, op: "getOutputs", callId, cursor, waitMs: 2_000 });
      if (!("outputs" in answer)) throw new Error(`expected outputs, got ${JSON.stringify(answer)}`);
      seen.push(...answer.outputs.map((o): [number, unknown] => [o.idx, decode(o.value)]));
      cursor = answer.cursor;
      if (answer.done) break;
    }
    expect(seen.sort((a, b) => a[0] - b[0])).toEqual([
      [0, 4],
      [1, 9],
      [2, 16],
      [3, 25],
    ]);
    // A call of another pool (this one has no such call) and a call of another workspace's pool, whatever pool the channel is.
    const other = await setUp("channel-map-other", {});
    const theirs = await api(other.token).cbor(`/v1/functions/${other.functionId}/calls`, { kind: "map", inputs: [], closed: false, waitMs: 0 });
    const theirCallId = decode<{ callId: string }>(new Uint8Array(await theirs.arrayBuffer())).callId;
    expect(await channel.send(20, { id: 20, op: "getOutputs", callId: theirCallId, cursor: 0, waitMs: 0 })).toMatchObject({
      id: 20,
      error: { code: "NOT_FOUND" },
    });
    expect(await channel.send(21, { ...put(21, 0, 1, false), callId: theirCallId })).toMatchObject({ id: 21, error: { code: "NOT_FOUND" } });
    const theirChannel = await openChannel(other.token, other.functionId);
    expect(await theirChannel.send(0, { id: 0, op: "getOutputs", callId, cursor: 0, waitMs: 0 })).toMatchObject({ id: 0, error: { code: "NOT_FOUND" } });
    // A frame with a bad field is answered with the route's 400, by its id.
    expect(await channel.send(22, { ...put(22, 4, 1, false), inputs: [{ idx: "x", args: encode([1]) }] })).toMatchObject({
      id: 22,
      error: { code: "INVALID_ARGUMENT", message: expect.stringContaining("idx") },
    });
  });
});

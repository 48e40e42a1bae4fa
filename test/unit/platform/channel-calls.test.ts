// The pool's end of a call channel (src/api/call-channel.ts), without a
// socket: how a frame is read, and how a call on it is answered.
import { describe, expect, it } from "vitest";
import { ChannelFrameError, answer, answerFrame, readChannelFrame, type ChannelHost, type ChannelOpening } from "../../../src/api/channel-calls";
import type { CallOutputs, CreateCallArgs, PoolConfig } from "../../../src/pool/config";
import type { InputItem } from "../../../sdk/src/wire/api";
import { ApiError } from "../../../src/control/errors";
import { CHANNEL_MAX_OUTPUT_BYTES, type ChannelCall, type ChannelGetOutputs, type ChannelPutInputs } from "../../../sdk/src/wire/channel";
import { decode, encode } from "../../../sdk/src/wire/serialization";

const frame = (value: unknown): ArrayBuffer => {
  const bytes = encode(value);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
};
const good = { id: 4, requestId: "request-4-abcdef", args: encode([1]), waitMs: 25_000 };

function frameError(data: ArrayBuffer | string): ChannelFrameError {
  try {
    readChannelFrame(data);
  } catch (err) {
    if (err instanceof ChannelFrameError) return err;
    throw err;
  }
  throw new Error("the frame was read as a call");
}

describe("reading a channel frame", () => {
  it("reads a call", () => {
    const call = readChannelFrame(frame({ ...good, method: "predict" })) as ChannelCall;
    expect(call).toMatchObject({ id: 4, requestId: good.requestId, method: "predict", waitMs: 25_000 });
    expect([...call.args]).toEqual([...good.args]);
  });

  it("refuses what is no call without an id to answer: the channel closes", () => {
    expect(frameError("hello")).toMatchObject({ id: null, message: expect.stringContaining("binary CBOR") });
    expect(frameError(new Uint8Array([0xff, 0x00]).buffer)).toMatchObject({ id: null, message: expect.stringContaining("not valid CBOR") });
    expect(frameError(frame({ ...good, id: -1 }))).toMatchObject({ id: null, message: expect.stringContaining("id") });
    expect(frameError(frame([1, 2]))).toMatchObject({ id: null });
  });

  it("answers a call with a bad field by its id, naming the field as the HTTP route would", () => {
    expect(frameError(frame({ ...good, requestId: "no" }))).toMatchObject({
      id: 4,
      cause: { code: "INVALID_ARGUMENT", message: expect.stringContaining("requestId") },
    });
    expect(frameError(frame({ ...good, waitMs: 60_001 }))).toMatchObject({ id: 4, cause: { message: expect.stringContaining("waitMs") } });
    expect(frameError(frame({ ...good, args: "x" }))).toMatchObject({ id: 4, cause: { message: expect.stringContaining("args") } });
    expect(frameError(frame({ ...good, method: "m".repeat(65) }))).toMatchObject({ id: 4, cause: { message: expect.stringContaining("method") } });
    expect(frameError(frame({ ...good, args: new Uint8Array(2_000_001) }))).toMatchObject({ id: 4, cause: { code: "PAYLOAD_TOO_LARGE" } });
  });

  const put = {
    id: 5,
    op: "putInputs",
    callId: "fc-a-1",
    inputs: [
      { idx: 3, args: encode([3]) },
      { idx: 4, args: encode([4]) },
    ],
    closed: false,
  };
  const read = { id: 6, op: "getOutputs", callId: "fc-a-1", cursor: 2 ** 40, waitMs: 25_000 };

  it("reads a map's inputs and a read of its outputs", () => {
    const inputs = readChannelFrame(frame({ ...put, method: "predict" }));
    expect(inputs).toMatchObject({ id: 5, op: "putInputs", callId: "fc-a-1", closed: false, method: "predict" });
    expect((inputs as ChannelPutInputs).inputs.map((i) => [i.idx, [...i.args]])).toEqual(put.inputs.map((i) => [i.idx, [...i.args]]));
    expect(readChannelFrame(frame(read))).toEqual(read);
  });

  it("answers a map frame with a bad field by its id, naming the field as the HTTP route would", () => {
    expect(frameError(frame({ ...put, op: "cancel" }))).toMatchObject({ id: 5, cause: { code: "INVALID_ARGUMENT", message: expect.stringContaining("op") } });
    expect(frameError(frame({ ...put, callId: "c".repeat(201) }))).toMatchObject({ id: 5, cause: { message: expect.stringContaining("callId") } });
    expect(frameError(frame({ ...put, closed: "yes" }))).toMatchObject({ id: 5, cause: { message: expect.stringContaining("closed") } });
    expect(frameError(frame({ ...put, inputs: [{ idx: 3, args: "x" }] }))).toMatchObject({ id: 5, cause: { message: expect.stringContaining("args") } });
    expect(frameError(frame({ ...put, inputs: [put.inputs[1], put.inputs[0]] }))).toMatchObject({ id: 5, cause: { code: "INVALID_ARGUMENT" } });
    expect(frameError(frame({ ...put, inputs: [{ idx: 3, args: new Uint8Array(2_000_001) }] }))).toMatchObject({ id: 5, cause: { code: "PAYLOAD_TOO_LARGE" } });
    expect(frameError(frame({ ...read, cursor: -1 }))).toMatchObject({ id: 6, cause: { message: expect.stringContaining("cursor") } });
    expect(frameError(frame({ ...read, waitMs: 60_001 }))).toMatchObject({ id: 6, cause: { message: expect.stringContaining("waitMs") } });
  });
});

describe("answering a call on a channel", () => {
  const opening: ChannelOpening = {
    config: { version: 3, workspaceId: "ws-1" } as PoolConfig,
    fn: { kind: "function", name: "f", methods: [] },
    tokenHash: "hash",
  };
  const call: ChannelCall = { id: 9, requestId: "request-9-abcdef", args: encode([2]), waitMs: 100 };

  type Put = { workspaceId: string; callId: string; inputs: InputItem[]; closed: boolean; method: string | null };
  type Read = { workspaceId: string; callId: string; cursor: number; waitMs: number; maxBytes: number };
  function host(over: Partial<ChannelHost> = {}): ChannelHost & { started: CreateCallArgs[]; puts: Put[]; reads: Read[] } {
    const started: CreateCallArgs[] = [];
    const puts: Put[] = [];
    const reads: Read[] = [];
    return {
      started,
      puts,
      reads,
      putInputs: (workspaceId, callId, inputs, closed, method) => {
        puts.push({ workspaceId, callId, inputs, closed, method });
        return { ok: true, value: { admitted: inputs.length } };
      },
      readOutputs: async (workspaceId, callId, cursor, waitMs, maxBytes) => {
        reads.push({ workspaceId, callId, cursor, waitMs, maxBytes });
        const value: CallOutputs = { outputs: [{ idx: 3, status: "success", value: encode(9) }], cursor: cursor + 1, done: true };
        return { ok: true, value };
      },
      configure: () => undefined,
      configVersion: () => 3,
      stopped: () => false,
      startRemote: async (args) => {
        started.push(args);
        return { ok: true, value: { callId: "c-1", outputs: [], cursor: 0, done: false } };
      },
      admit: () => undefined,
      nowMs: () => 1_000,
      ...over,
    };
  }
  const channel = { version: 3, closesAtMs: 2_000, opening };

  it("starts the call as the HTTP route starts a remote, and answers with its id", async () => {
    const h = host();
    expect(await answer(h, channel, call)).toEqual({ id: 9, callId: "c-1", outputs: [], cursor: 0, done: false });
    expect(h.started).toEqual([{ kind: "remote", method: null, inputs: [{ idx: 0, args: call.args }], closed: true, waitMs: 100, requestId: call.requestId }]);
  });

  it("answers reopen, starting nothing, once the pool's config changed, its app stopped or the channel outlived its token check", async () => {
    const redeployed = host({ configVersion: () => 4 });
    expect(await answer(redeployed, channel, call)).toEqual({ id: 9, reopen: true });
    const stopped = host({ stopped: () => true });
    expect(await answer(stopped, channel, call)).toEqual({ id: 9, reopen: true });
    const late = host({ nowMs: () => 2_000 });
    expect(await answer(late, channel, call)).toEqual({ id: 9, reopen: true });
    expect([...redeployed.started, ...stopped.started, ...late.started]).toEqual([]);
  });

  it("answers the HTTP route's errors: the rate limit, the method, the pool's refusal", async () => {
    const limited = host({
      admit: () => {
        throw new ApiError("RESOURCE_EXHAUSTED", "too many requests with this token", 40);
      },
    });
    expect(await answer(limited, channel, call)).toMatchObject({ id: 9, error: { code: "RESOURCE_EXHAUSTED", retryAfterMs: 40 } });
    expect(await answer(host(), channel, { ...call, method: "predict" })).toMatchObject({
      id: 9,
      error: { code: "INVALID_ARGUMENT", message: expect.stringContaining("is a function") },
    });
    const cls = { ...channel, opening: { ...opening, fn: { kind: "class" as const, name: "Model", methods: ["predict"] } } };
    expect(await answer(host(), cls, { ...call, method: "train" })).toMatchObject({ id: 9, error: { code: "NOT_FOUND" } });
    const stopped = host({ startRemote: async () => ({ ok: false, error: { code: "CONFLICT", message: "app a is stopped" } }) });
    expect(await answer(stopped, channel, call)).toEqual({ id: 9, error: { code: "CONFLICT", message: "app a is stopped" } });
  });

  const put: ChannelPutInputs = { id: 10, op: "putInputs", callId: "fc-a-1", inputs: [{ idx: 0, args: encode([1]) }], closed: true };
  const read: ChannelGetOutputs = { id: 11, op: "getOutputs", callId: "fc-a-1", cursor: 7, waitMs: 25_000 };

  it("adds a map's inputs and reads its outputs as the HTTP routes do, in the channel's workspace, a read held to a WebSocket message's size", async () => {
    const h = host();
    expect(await answer(h, channel, put)).toEqual({ id: 10, admitted: 1 });
    expect(h.puts).toEqual([{ workspaceId: "ws-1", callId: "fc-a-1", inputs: put.inputs, closed: true, method: null }]);
    expect(await answer(h, channel, { ...put, method: "predict" })).toEqual({ id: 10, admitted: 1 });
    expect(h.puts[1].method).toBe("predict");
    expect(await answer(h, channel, read)).toEqual({ id: 11, outputs: [{ idx: 3, status: "success", value: encode(9) }], cursor: 8, done: true });
    expect(h.reads).toEqual([{ workspaceId: "ws-1", callId: "fc-a-1", cursor: 7, waitMs: 25_000, maxBytes: CHANNEL_MAX_OUTPUT_BYTES }]);
  });

  it("answers a map frame with the pool's refusal, the rate limit, or reopen, doing nothing", async () => {
    const refused = host({
      putInputs: () => ({ ok: false, error: { code: "CONFLICT", message: "call fc-a-1 was cancelled" } }),
      readOutputs: async () => ({ ok: false, error: { code: "NOT_FOUND", message: "call fc-a-1 not found" } }),
    });
    expect(await answer(refused, channel, put)).toEqual({ id: 10, error: { code: "CONFLICT", message: "call fc-a-1 was cancelled" } });
    expect(await answer(refused, channel, read)).toEqual({ id: 11, error: { code: "NOT_FOUND", message: "call fc-a-1 not found" } });
    const limited = host({
      admit: () => {
        throw new ApiError("RESOURCE_EXHAUSTED", "too many requests with this token", 40);
      },
    });
    expect(await answer(limited, channel, put)).toMatchObject({ id: 10, error: { code: "RESOURCE_EXHAUSTED" } });
    const redeployed = host({ configVersion: () => 4 });
    expect(await answer(redeployed, channel, put)).toEqual({ id: 10, reopen: true });
    expect(await answer(redeployed, channel, read)).toEqual({ id: 11, reopen: true });
    expect([...limited.puts, ...redeployed.puts, ...redeployed.reads]).toEqual([]);
  });
});

describe("an answer's frame", () => {
  it("is the answer's CBOR: outputs written directly, the rest the general way", () => {
    const answered = { id: 1, callId: "fc-a-1", outputs: [{ idx: 0, status: "success" as const, value: encode(7) }], cursor: 0, done: true };
    expect(Buffer.compare(answerFrame(answered), encode(answered))).toBe(0);
    expect(decode(answerFrame({ id: 3, reopen: true }))).toEqual({ id: 3, reopen: true });
    expect(decode(answerFrame({ id: 4, error: { code: "NOT_FOUND", message: "gone" } }))).toEqual({ id: 4, error: { code: "NOT_FOUND", message: "gone" } });
    const read = { id: 5, outputs: [{ idx: 2, status: "failure" as const, value: encode("x") }], cursor: 2 ** 41 + 3, done: false };
    expect(Buffer.compare(answerFrame(read), encode(read))).toBe(0);
    expect(decode(answerFrame({ id: 6, admitted: 500 }))).toEqual({ id: 6, admitted: 500 });
  });
});

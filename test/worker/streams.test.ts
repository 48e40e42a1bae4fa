// Streaming generators at the pool level, inside workerd: a fake generator
// runner (fake-compute.ts, "streams" and "floods") sends values under the
// pool's credit, and the caller reads them through GET /v1/calls/{id}/stream.
// (test/e2e/generators.test.ts proves the same with real runner processes.)
import { describe, it, expect } from "vitest";
import { decode, encode } from "../../sdk/src/wire/serialization";
import { STREAM_WINDOW } from "../../sdk/src/wire/protocol";
import type { GetStreamResponse } from "../../sdk/src/wire/api";
import { fakeCompute, type StartBehaviour } from "./fake-compute";
import { api, deploy, manifest, newWorkspace } from "./helpers";

async function setUp(app: string, behaviour: StartBehaviour, options: Record<string, unknown> = {}) {
  fakeCompute.script(app, [], behaviour);
  const token = await newWorkspace(app);
  const res = await deploy(token, manifest(app, [{ name: "gen", options: { maxContainers: 1, generator: true, ...options } }]));
  if (res.status !== 201) throw new Error(`deploy: ${res.status} ${await res.text()}`);
  const functionId = ((await res.json()) as { functions: Array<{ functionId: string }> }).functions[0].functionId;
  const start = async (args: number[]): Promise<string> => {
    const created = await api(token).cbor(`/v1/functions/${functionId}/calls`, {
      kind: "remote",
      inputs: [{ idx: 0, args: encode(args) }],
      closed: true,
      waitMs: 0,
    });
    expect(created.status).toBe(200);
    return decode<{ callId: string }>(new Uint8Array(await created.arrayBuffer())).callId;
  };
  const read = async (callId: string, from: number): Promise<GetStreamResponse> => {
    const res = await api(token).get(`/v1/calls/${callId}/stream?from=${from}&waitMs=5000`);
    expect(res.status).toBe(200);
    return decode<GetStreamResponse>(new Uint8Array(await res.arrayBuffer()));
  };
  /** Reads every value from `from` until the end; each read only after the last one's values are taken. */
  const readAll = async (callId: string): Promise<{ values: unknown[]; reads: number; end: GetStreamResponse["output"] }> => {
    const values: unknown[] = [];
    for (let reads = 1; ; reads++) {
      const res = await read(callId, values.length);
      values.push(...res.values.map((v) => decode(v)));
      if (res.output) return { values, reads, end: res.output };
      if (reads > 200) throw new Error(`no end after ${values.length} values`);
    }
  };
  return { start, read, readAll, token };
}

describe("a generator call's values", () => {
  it("reach the reader in order, a window at a time, and then the end", async () => {
    const pool = await setUp("streams-order", "streams");
    const n = STREAM_WINDOW * 3 + 5;
    const { values, reads, end } = await pool.readAll(await pool.start([n]));
    expect(values).toEqual(Array.from({ length: n }, (_, i) => i));
    // The runner never had credit for more than a window past what was read.
    expect(reads).toBeGreaterThanOrEqual(4);
    expect(end).toMatchObject({ idx: 0, status: "success" });
    expect(decode(end!.value)).toBe(n);
  });

  it("an error comes after the values before it, and a generator that yielded is not retried", async () => {
    const app = "streams-error";
    const pool = await setUp(app, "streams", { retries: 3 });
    const { values, end } = await pool.readAll(await pool.start([3, 1]));
    expect(values).toEqual([0, 1, 2]);
    expect(end?.status).toBe("failure");
    expect(decode<{ message: string }>(end!.value).message).toBe("gave up after 3");
    expect(fakeCompute.runs(app, 3)).toHaveLength(1);
  });

  it("are bounded by the window: a runner that ignores credit gets no more stored, and a value sent twice is kept once", async () => {
    const pool = await setUp("streams-flood", "floods");
    const callId = await pool.start([STREAM_WINDOW * 4]);
    const first = await pool.read(callId, 0);
    expect(first.values.map((v) => decode(v))).toEqual(Array.from({ length: STREAM_WINDOW }, (_, i) => i));
    expect(first.output).toBeNull();
    // Reading on from the end of the window finds nothing more: the flood past it was dropped.
    const res = await api(pool.token).get(`/v1/calls/${callId}/stream?from=${STREAM_WINDOW}&waitMs=300`);
    const next = decode<GetStreamResponse>(new Uint8Array(await res.arrayBuffer()));
    expect(next).toMatchObject({ values: [], next: STREAM_WINDOW, output: null });
    const cancelled = await api(pool.token).json("POST", `/v1/calls/${callId}/cancel`, {});
    expect(cancelled.status).toBe(200);
    const end = await pool.read(callId, STREAM_WINDOW);
    expect(end.output?.status).toBe("cancelled");
  });

  it("of another workspace's call are not found", async () => {
    const pool = await setUp("streams-own", "streams");
    const callId = await pool.start([2]);
    const other = await newWorkspace("streams-other");
    const res = await api(other).get(`/v1/calls/${callId}/stream?from=0`);
    expect(res.status).toBe(404);
  });
});

// The runner as the pool sees it: a real runner process (started by the local
// container host), the fixture app's bundle served over HTTP, and the
// runner protocol over an authenticated WebSocket.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import WebSocket from "ws";
import type { ContainerHost } from "../../../sdk/src/host/index.js";
import type { SerializedError } from "../../../sdk/src/wire/serialization.js";
import { decode, encode } from "../../../sdk/src/wire/serialization.js";
import {
  PoolClient,
  serveFixtureBundle,
  startContainer,
  startTestHost,
  valueOf,
  waitUntil,
  hostRequest,
  type BundleServer,
  type TestContainer,
} from "../fixtures/harness.js";
import type { HostedContainer } from "../../../sdk/src/wire/host.js";
import type { RunnerToPool } from "../../../sdk/src/wire/protocol.js";
import { sleep } from "../../fixtures/wait";

let host: ContainerHost;
let lines: string[];
let bundle: BundleServer;

beforeAll(async () => {
  ({ host, lines } = await startTestHost());
  bundle = await serveFixtureBundle();
});

afterAll(async () => {
  await host?.close();
  await bundle?.close();
});

/** A fresh container with a pool connected and initialized for `target`. */
async function ready(
  target: Parameters<PoolClient["init"]>[2] = { kind: "function", name: "square" },
  maxInputs = 10,
): Promise<{ c: TestContainer; pool: PoolClient }> {
  const c = await startContainer(host.url);
  const pool = await PoolClient.connect(c.info.port, c.secret);
  const answer = await pool.init(c, bundle.url, target, maxInputs);
  expect(answer).toMatchObject({ t: "ready", containerId: c.id, holding: [] });
  return { c, pool };
}

describe("runner", () => {
  it("downloads the bundle with the container secret and answers ready", async () => {
    const before = bundle.requests.length;
    const { c, pool } = await ready();
    expect(bundle.requests.slice(before)).toEqual([`Bearer ${c.secret}`]);
    pool.close();
  });

  it("runs inputs and sends their results back, batched", async () => {
    const { pool } = await ready();
    const outputs = await pool.run(
      Array.from({ length: 200 }, (_, i) => [i]),
      1,
    );
    expect([...outputs.values()].map(valueOf)).toEqual(Array.from({ length: 200 }, (_, i) => i * i));
    // 200 results that finish together travel in a few frames, not one each.
    expect(pool.received.filter((m) => m.t === "outputs").length).toBeLessThan(10);
    pool.close();
  });

  it("round-trips rich values (Date, Map, Set, BigInt, bytes, undefined)", async () => {
    const { pool } = await ready({ kind: "function", name: "echo" });
    const args = [new Date(0), new Map([["a", 1]]), new Set([1, 2]), 10n ** 20n, new Uint8Array([1, 2, 3]), undefined];
    const outputs = await pool.run([args], 1);
    expect(valueOf(outputs.get(1))).toEqual(args);
    pool.close();
  });

  it("reports a thrown error with its name, message, stack and properties", async () => {
    const { pool } = await ready({ kind: "function", name: "fail" });
    const output = (await pool.run([["no coffee"]], 7)).get(7)!;
    expect(output.status).toBe("failure");
    const err = decode<SerializedError>(output.value);
    expect(err).toMatchObject({ name: "TeapotError", message: "no coffee", props: { status: 418 } });
    // The bundle's source map points the stack at the app's own file.
    expect(err.stack).toMatch(/TeapotError: no coffee\n\s+at fail .*fixtures\/app\.ts:\d+/);
    pool.close();
  });

  it("runs async inputs concurrently, up to maxInputs", async () => {
    const { pool } = await ready({ kind: "function", name: "nap" }, 5);
    const outputs = await pool.run(
      Array.from({ length: 5 }, () => [300]),
      1,
    );
    const spans = [...outputs.values()].map((o) => valueOf(o) as { start: number; end: number });
    // All five were running at one moment: the last start comes before the first end.
    expect(Math.max(...spans.map((s) => s.start))).toBeLessThan(Math.min(...spans.map((s) => s.end)));
    // A sixth input waits for a free slot instead of running beside them.
    const more = await pool.run(
      Array.from({ length: 6 }, () => [200]),
      10,
    );
    const laterSpans = [...more.values()].map((o) => valueOf(o) as { start: number; end: number }).sort((a, b) => a.start - b.start);
    expect(laterSpans[5].start).toBeGreaterThanOrEqual(Math.min(...laterSpans.slice(0, 5).map((s) => s.end)));
    pool.close();
  });

  it("says when an input that waited for a slot starts, in the frame of the output that freed it", async () => {
    const { pool } = await ready({ kind: "function", name: "nap" }, 1);
    const outputs = await pool.run([[150], [150], [150]], 1);
    expect(outputs.size).toBe(3);
    const frames = pool.received.filter((m): m is Extract<RunnerToPool, { t: "outputs" }> => m.t === "outputs");
    // Input 1 started as it arrived; 2 and 3 waited, and each start went out with the output before it.
    expect(frames.map((f) => [f.outputs.map((o) => o.id), f.started ?? []])).toEqual([
      [[1], [2]],
      [[2], [3]],
      [[3], []],
    ]);
    pool.close();
  });

  it("sends console output attributed to the input that printed it, and still prints it", async () => {
    const { pool } = await ready({ kind: "function", name: "chatty" });
    await pool.run([["alpha"], ["beta"]], 21);
    await pool.until(() => pool.received.some((m) => m.t === "logs" && m.lines.some((l) => l.text === "bye from beta")), "logs");
    const logged = pool.received.flatMap((m) => (m.t === "logs" ? m.lines : []));
    expect(logged).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ inputId: 21, stream: "stdout", text: "hello from alpha" }),
        expect.objectContaining({ inputId: 21, stream: "stderr", text: "bye from alpha" }),
        expect.objectContaining({ inputId: 22, stream: "stdout", text: "hello from beta" }),
        expect.objectContaining({ inputId: 22, stream: "stderr", text: "bye from beta" }),
      ]),
    );
    await waitUntil(() => lines.some((l) => l.endsWith("] hello from alpha")), "the line on the runner's stdout");
    pool.close();
  });

  it("refuses a result that does not serialize, naming the part that does not", async () => {
    const { pool } = await ready({ kind: "function", name: "returnsFunction" });
    const output = (await pool.run([[]], 1)).get(1)!;
    expect(output.status).toBe("failure");
    expect(decode<SerializedError>(output.value).message).toContain(".user.save (a function)");
    pool.close();
  });

  it("builds a class instance once, runs enter() before inputs, and calls its methods", async () => {
    const { pool } = await ready({ kind: "class", name: "Model", params: { version: "v3" } });
    const outputs = await pool.run([[1], [2]], 1, "predict");
    expect([...outputs.values()].map(valueOf)).toEqual(["v3:1:entered=1", "v3:2:entered=1"]);
    const logged = pool.received.flatMap((m) => (m.t === "logs" ? m.lines : []));
    expect(logged).toEqual(expect.arrayContaining([expect.objectContaining({ text: "entered v3" })]));
    for (const [id, method] of [
      [10, "enter"],
      [11, "toString"],
      [12, "nope"],
    ] as const) {
      const failed = (await pool.run([[1]], id, method)).get(id)!;
      expect(failed.status).toBe("failure");
      expect(decode<SerializedError>(failed.value).message).toBe(`Model.${method} is not a method that can be called remotely (methods: predict)`);
    }
    pool.close();
  });

  it("answers init_failed with a clear message for a function the bundle does not define", async () => {
    const c = await startContainer(host.url);
    const pool = await PoolClient.connect(c.info.port, c.secret);
    const answer = await pool.init(c, bundle.url, { kind: "function", name: "cube" });
    expect(answer.t).toBe("init_failed");
    const { error } = answer as Extract<typeof answer, { t: "init_failed" }>;
    expect(error.message).toBe(
      'function "cube" is not defined in the app bundle (defined: square, fail, nap, chatty, exitNow, returnsFunction, echo, Model, embed, shortBatch, Scaler)',
    );
    // It stays up for the pool to stop.
    expect((await hostRequest(host.url, "GET", `/containers/${c.id}`)).body).toMatchObject({ state: "running" });
    pool.close();
  });

  it("refuses a connection without the container secret", async () => {
    const c = await startContainer(host.url);
    await expect(PoolClient.connect(c.info.port, "wrong-secret")).rejects.toThrow(/401/);
    const noAuth = new WebSocket(`ws://127.0.0.1:${c.info.port}/connect`);
    await expect(new Promise((resolve, reject) => (noAuth.once("open", resolve), noAuth.once("error", reject)))).rejects.toThrow(/401/);
  });

  it("drops the results of cancelled inputs, and frees their slots", async () => {
    const { pool } = await ready({ kind: "function", name: "nap" }, 1);
    const t0 = Date.now();
    pool.send({ t: "inputs", inputs: [{ id: 1, args: encode([500]) }] });
    pool.send({ t: "cancel", ids: [1] });
    await pool.run([[100]], 2);
    // With maxInputs 1, input 2 ran beside the cancelled input, not after it.
    expect(Date.now() - t0).toBeLessThan(450);
    await pool.run([[500]], 3); // ends after input 1 would have
    expect(pool.outputs().has(1)).toBe(false);
    pool.close();
  });

  it("keeps running inputs across a dropped connection and delivers their results to the next one", async () => {
    const { c, pool } = await ready({ kind: "function", name: "nap" });
    pool.run([[300]], 1).catch(() => undefined);
    await sleep(50);
    pool.close();
    await pool.waitClosed();
    const before = bundle.requests.length;
    const next = await PoolClient.connect(c.info.port, c.secret);
    // A reconnecting pool re-sends init: answered without importing again.
    // It still holds input 1: a pool that restarted re-queues only the inputs a runner does not hold.
    expect(await next.init(c, bundle.url, { kind: "function", name: "nap" })).toEqual({ t: "ready", containerId: c.id, holding: [1], running: [1] });
    expect(bundle.requests.length).toBe(before);
    await next.until(() => next.outputs().has(1), "the output of input 1 on the new connection");
    next.close();
  });

  it("sends an output again on the next connection until the pool acknowledges it", async () => {
    const { c, pool } = await ready({ kind: "function", name: "nap" });
    await pool.run([[1]], 1);
    await pool.run([[1]], 2);
    pool.send({ t: "ack", ids: [2] });
    // The ack is read before the next input: once input 3's output is back, the runner has it.
    await pool.run([[1]], 3);
    pool.close(); // as a pool that restarts before storing outputs 1 and 3
    await pool.waitClosed();
    const next = await PoolClient.connect(c.info.port, c.secret);
    expect(await next.init(c, bundle.url, { kind: "function", name: "nap" })).toEqual({ t: "ready", containerId: c.id, holding: [1, 3], running: [] });
    await next.run([[1]], 4); // resent outputs go out ahead of newer ones
    expect([...next.outputs().keys()].sort()).toEqual([1, 3, 4]);
    next.send({ t: "ack", ids: [1, 3, 4] });
    await next.run([[1]], 5);
    next.close();
    await next.waitClosed();
    const third = await PoolClient.connect(c.info.port, c.secret);
    expect(await third.init(c, bundle.url, { kind: "function", name: "nap" })).toEqual({ t: "ready", containerId: c.id, holding: [5], running: [] });
    third.close();
  });

  it("closes the old connection when a new one arrives, and sends heartbeats", async () => {
    const { c, pool } = await ready();
    const next = await PoolClient.connect(c.info.port, c.secret);
    expect(await pool.waitClosed()).toBe(4000);
    const beat = await next.next("heartbeat", 0, 3_000);
    expect(beat).toEqual({ t: "heartbeat", running: 0 });
    next.close();
  });

  it("on shutdown, finishes running inputs, sends their results and exits 0", async () => {
    const { c, pool } = await ready({ kind: "function", name: "nap" });
    pool.send({ t: "inputs", inputs: [{ id: 5, args: encode([200]) }] });
    await sleep(20);
    pool.send({ t: "shutdown" });
    await pool.waitClosed();
    expect(pool.outputs().get(5)?.status).toBe("success");
    await waitUntil(async () => ((await hostRequest(host.url, "GET", `/containers/${c.id}`)).body as HostedContainer).state === "exited", "the runner to exit");
    expect((await hostRequest(host.url, "GET", `/containers/${c.id}`)).body).toMatchObject({ exitCode: 0, signal: null });
  });

  it("on SIGTERM, exits 0 within 2 s even while an input is still running", async () => {
    const { c, pool } = await ready({ kind: "function", name: "nap" });
    pool.send({ t: "inputs", inputs: [{ id: 1, args: encode([10_000]) }] });
    await sleep(50);
    const t0 = Date.now();
    const stopped = await hostRequest(host.url, "DELETE", `/containers/${c.id}`); // SIGTERM; SIGKILL only after 3 s
    expect(Date.now() - t0).toBeLessThan(2_500);
    expect(stopped.body).toMatchObject({ state: "exited", exitCode: 0, signal: null });
  });
});

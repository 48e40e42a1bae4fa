// Input concurrency for synchronous code: with maxInputs > 1 the runner runs
// each input of a synchronous function, or of a class with a synchronous
// method, on a worker thread of its own (sdk/src/runner/threads.ts), a class
// with one instance per thread; arguments, results, errors and console output
// behave as on the main thread. A real runner process, the threads fixture
// app's bundle, and the runner protocol, as in runner.test.ts.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import type { ContainerHost } from "../../../sdk/src/host/index.js";
import type { SerializedError } from "../../../sdk/src/wire/serialization.js";
import type { HostedContainer } from "../../../sdk/src/wire/host.js";
import type { LogLine } from "../../../sdk/src/wire/protocol.js";
import { decode, encode } from "../../../sdk/src/wire/serialization.js";
import { PoolClient, serveFixtureBundle, startContainer, startTestHost, valueOf, waitUntil, hostRequest, type BundleServer } from "../fixtures/harness.js";
import { sleep } from "../../fixtures/wait";

let host: ContainerHost;
let lines: string[];
let bundle: BundleServer;

beforeAll(async () => {
  ({ host, lines } = await startTestHost());
  bundle = await serveFixtureBundle("threads-app.ts");
});

afterAll(async () => {
  await host?.close();
  await bundle?.close();
});

type Target = Parameters<PoolClient["init"]>[2];

async function ready(target: Target, maxInputs: number): Promise<PoolClient> {
  const c = await startContainer(host.url);
  const pool = await PoolClient.connect(c.info.port, c.secret);
  expect(await pool.init(c, bundle.url, target, maxInputs)).toMatchObject({ t: "ready", containerId: c.id, holding: [] });
  return pool;
}

interface Span {
  start: number;
  end: number;
  threadId: number;
}

const logsOf = (pool: PoolClient): LogLine[] => pool.received.flatMap((m) => (m.t === "logs" ? m.lines : []));

/** True when some moment lies inside every span: the inputs ran at the same time. */
const allOverlap = (spans: Span[]): boolean => Math.max(...spans.map((s) => s.start)) < Math.min(...spans.map((s) => s.end));

describe("runner: blocking synchronous code with maxInputs 4 runs four inputs at once", () => {
  it("a function: four blocked inputs on four threads, all at the same time", async () => {
    const pool = await ready({ kind: "function", name: "blockFor" }, 4);
    const spans = [...(await pool.run([[1_500], [1_500], [1_500], [1_500]], 1)).values()].map((o) => valueOf(o) as Span);
    expect(new Set(spans.map((s) => s.threadId)).size).toBe(4);
    expect(spans.every((s) => s.threadId !== 0)).toBe(true);
    expect(allOverlap(spans)).toBe(true);
    pool.close();
  });

  it("a class method: each thread its own instance, built from the params and entered once", async () => {
    const pool = await ready({ kind: "class", name: "Sleeper", params: { name: "s1" } }, 4);
    type Result = Span & { name: string; enteredOn: number; enteredHere: number; calls: number };
    const spans = [...(await pool.run([[1_500], [1_500], [1_500], [1_500]], 1, "blockFor")).values()].map((o) => valueOf(o) as Result);
    expect(new Set(spans.map((s) => s.threadId)).size).toBe(4);
    expect(spans.every((s) => s.threadId !== 0)).toBe(true);
    expect(allOverlap(spans)).toBe(true);
    for (const s of spans) expect(s, "this thread's instance").toMatchObject({ name: "s1", enteredOn: s.threadId, enteredHere: 1, calls: 1 });

    // The threads and their instances are reused; an async method of such a class runs on them too.
    const again = [...(await pool.run([[10], [10], [10], [10]], 11, "blockFor")).values()].map((o) => valueOf(o) as Result);
    expect(new Set(again.map((s) => s.threadId))).toEqual(new Set(spans.map((s) => s.threadId)));
    expect(again.every((s) => s.calls === 2 && s.enteredHere === 1)).toBe(true);
    const asyncOn = valueOf((await pool.run([[]], 21, "asyncWhere")).get(21));
    expect(spans.map((s) => s.threadId)).toContain(asyncOn);
    pool.close();
  });

  it("a class whose enter() throws in its thread fails the container's init, as on the main thread", async () => {
    const c = await startContainer(host.url);
    const pool = await PoolClient.connect(c.info.port, c.secret);
    const answer = await pool.init(c, bundle.url, { kind: "class", name: "BadEnter", params: {} }, 4);
    expect(answer.t).toBe("init_failed");
    expect(answer.t === "init_failed" && answer.error.message).toMatch(/BadEnter\.enter\(\) failed: Error: no GPU here/);
    pool.close();
  });
});

describe("runner: synchronous functions with maxInputs > 1", () => {
  it("runs CPU-bound inputs on separate worker threads at the same time, up to maxInputs", async () => {
    const pool = await ready({ kind: "function", name: "spin" }, 2);
    const t0 = Date.now();
    const spans = [...(await pool.run([[1_000], [1_000]], 1)).values()].map((o) => valueOf(o) as Span);
    const wall = Date.now() - t0;
    // On one thread they would take 2 s one after the other; here they overlap.
    expect(Math.max(...spans.map((s) => s.start))).toBeLessThan(Math.min(...spans.map((s) => s.end)));
    expect(wall).toBeLessThan(2_000);
    expect(spans.every((s) => s.threadId !== 0)).toBe(true); // 0 is the runner's main thread
    expect(new Set(spans.map((s) => s.threadId)).size).toBe(2);

    // A third input waits for a free slot; the threads are reused, not recreated.
    const more = [...(await pool.run([[300], [300], [300]], 10)).values()].map((o) => valueOf(o) as Span).sort((a, b) => a.start - b.start);
    expect(more[2].start).toBeGreaterThanOrEqual(Math.min(more[0].end, more[1].end));
    expect(new Set(more.map((s) => s.threadId))).toEqual(new Set(spans.map((s) => s.threadId)));
    pool.close();
  });

  it("keeps a thrown error's name, message, properties and source-mapped stack", async () => {
    const pool = await ready({ kind: "function", name: "syncFail" }, 2);
    const output = (await pool.run([["no tea"]], 7)).get(7)!;
    expect(output.status).toBe("failure");
    const err = decode<SerializedError>(output.value);
    expect(err).toMatchObject({ name: "TeapotError", message: "no tea", props: { status: 418 } });
    expect(err.stack).toMatch(/TeapotError: no tea\n\s+at syncFail .*fixtures\/threads-app\.ts:\d+/);
    pool.close();
  });

  it("attributes each thread's console output to its input, and still prints it", async () => {
    const pool = await ready({ kind: "function", name: "syncChatty" }, 2);
    const outputs = await pool.run([["alpha"], ["beta"]], 21);
    expect(new Set([...outputs.values()].map(valueOf)).size).toBe(2); // two threads
    await pool.until(() => logsOf(pool).filter((l) => l.text.startsWith("bye from")).length === 2, "both inputs' logs");
    expect(logsOf(pool)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ inputId: 21, stream: "stdout", text: "hello from alpha" }),
        expect.objectContaining({ inputId: 21, stream: "stderr", text: "bye from alpha" }),
        expect.objectContaining({ inputId: 22, stream: "stdout", text: "hello from beta" }),
        expect.objectContaining({ inputId: 22, stream: "stderr", text: "bye from beta" }),
      ]),
    );
    // A line arrives before the output of the input that printed it (beta's may come first: another thread).
    const firstOutput = pool.received.findIndex((m) => m.t === "outputs" && m.outputs.some((o) => o.id === 21));
    const firstLog = pool.received.findIndex((m) => m.t === "logs" && m.lines.some((l) => l.text === "hello from alpha"));
    expect(firstLog).toBeLessThan(firstOutput);
    await waitUntil(() => lines.some((l) => l.endsWith("] hello from beta")), "the line on the runner's stdout");
    pool.close();
  });

  it("serializes arguments and results as the main thread does", async () => {
    const echo = await ready({ kind: "function", name: "syncEcho" }, 3);
    const args = [new Date(0), new Map([["a", 1]]), new Set([1, 2]), 10n ** 20n, new Uint8Array([1, 2, 3]), undefined];
    expect(valueOf((await echo.run([args], 1)).get(1))).toEqual(args);
    echo.close();
    const bad = await ready({ kind: "function", name: "returnsFunction" }, 3);
    const output = (await bad.run([[]], 1)).get(1)!;
    expect(output.status).toBe("failure");
    expect(decode<SerializedError>(output.value).message).toBe("the return value of returnsFunction cannot be serialized: .user.save (a function)");
    bad.close();
  });

  it("keeps async functions, classes with only async methods and maxInputs 1 on the main thread", async () => {
    for (const [target, maxInputs, method] of [
      [{ kind: "function", name: "asyncWhere" }, 4, undefined],
      [{ kind: "function", name: "where" }, 1, undefined],
      [{ kind: "class", name: "Counter", params: { name: "c" } }, 1, "where"],
      [{ kind: "class", name: "AsyncCounter", params: {} }, 4, "where"],
    ] as const) {
      const pool = await ready(target, maxInputs);
      const threads = [...(await pool.run([[], []], 1, method)).values()].map(valueOf);
      expect(threads, `${target.name} with maxInputs ${maxInputs}`).toEqual([0, 0]);
      pool.close();
    }
  });

  it("stops a cancelled input's thread and gives its slot to the next input", async () => {
    const pool = await ready({ kind: "function", name: "ticker" }, 2);
    pool.send({ t: "inputs", inputs: [{ id: 1, args: encode([10_000]) }] });
    const ticksOf1 = (): number => logsOf(pool).filter((l) => l.inputId === 1 && l.text.startsWith("tick")).length;
    await pool.until(() => ticksOf1() >= 2, "input 1 ticking");
    pool.send({ t: "cancel", ids: [1] });
    const t0 = Date.now();
    await pool.run([[300], [300]], 2); // both slots free: they run side by side at once
    expect(Date.now() - t0).toBeLessThan(3_000);
    // The cancelled code no longer runs: its ticks stop.
    const after = ticksOf1();
    await sleep(400);
    expect(ticksOf1()).toBe(after);
    expect(pool.outputs().has(1)).toBe(false);
    pool.close();
  });

  it("exits the runner when user code on a thread calls process.exit, as on the main thread", async () => {
    const c = await startContainer(host.url);
    const pool = await PoolClient.connect(c.info.port, c.secret);
    expect((await pool.init(c, bundle.url, { kind: "function", name: "exitThread" }, 2)).t).toBe("ready");
    pool.send({ t: "inputs", inputs: [{ id: 1, args: encode([3]) }] });
    await pool.waitClosed();
    await waitUntil(async () => ((await hostRequest(host.url, "GET", `/containers/${c.id}`)).body as HostedContainer).state === "exited", "the runner to exit");
    expect((await hostRequest(host.url, "GET", `/containers/${c.id}`)).body).toMatchObject({ exitCode: 3, signal: null });
  });

  it("exits the runner with code 1 on an uncaught exception in a thread, as on the main thread", async () => {
    const c = await startContainer(host.url);
    const pool = await PoolClient.connect(c.info.port, c.secret);
    expect((await pool.init(c, bundle.url, { kind: "function", name: "strayThrow" }, 2)).t).toBe("ready");
    expect(valueOf((await pool.run([[]], 1)).get(1))).toBe("returned");
    await pool.waitClosed();
    await waitUntil(async () => ((await hostRequest(host.url, "GET", `/containers/${c.id}`)).body as HostedContainer).state === "exited", "the runner to exit");
    expect((await hostRequest(host.url, "GET", `/containers/${c.id}`)).body).toMatchObject({ exitCode: 1, signal: null });
    expect(lines.some((l) => l.includes("stray timer"))).toBe(true);
  });
});

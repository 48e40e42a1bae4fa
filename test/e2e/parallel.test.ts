// Issue "Parallel execution: map, starmap, forEach, spawn, FunctionCall,
// exceptions and limits", end to end: the real SDK and CLI against the real
// local platform (Worker, pool, spawn queue, container host, runners).
import { randomBytes } from "node:crypto";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { ClientRequest, IncomingMessage } from "node:http";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { inject } from "vitest";
import {
  FunctionCall,
  FunctionTimeoutError,
  InputCancellation,
  InvalidError,
  NotFoundError,
  ResourceExhaustedError,
  UserCodeException,
  failedInputIndex,
  type FunctionHandle,
  type FunctionStats,
} from "../../sdk/src/index";
import { RESULT_TTL_MS, MAX_PENDING_INPUTS } from "../../src/pool/limits";
import { mintCallId, poolIdOfCall } from "../../src/pool/call-id";
import { encode } from "../../sdk/src/wire/serialization";
import { client, deploy, eventually, sleep, squall } from "./helpers";
import { channelOpened, throughProxy } from "./flaky-proxy";
import { CallChannels } from "../../sdk/src/channel";

const fn = <A extends unknown[], R>(name: string, app = "parallel"): Promise<FunctionHandle<A, R>> => client().functions.fromName<A, R>(app, name);
const unique = (what: string): string => join(tmpdir(), `squall-e2e-${what}-${randomBytes(6).toString("hex")}`);

/** What a promise settles to, errors included, so tests can look at the error itself. */
const settle = <T>(p: Promise<T>): Promise<T | Error> =>
  p.then(
    (v) => v,
    (e: Error) => e,
  );

// Every request the SDK makes in this process, while recording: to show that
// maps batch and that a refused argument never leaves the process. The SDK
// sends through node:http in Node, whose diagnostics channel reports each
// response.
interface Sent {
  method: string;
  path: string;
  status: number;
}
let recorded: Sent[] | null = null;
const realFetch = globalThis.fetch;
const RESPONSES = "http.client.response.finish";
function onResponse(message: unknown): void {
  const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
  recorded?.push({ method: request.method, path: new URL(request.path, "http://x").pathname, status: response.statusCode ?? 0 });
}
async function recording<T>(run: (requests: Sent[]) => Promise<T>): Promise<{ result: T; requests: Sent[] }> {
  const requests: Sent[] = [];
  recorded = requests;
  try {
    return { result: await run(requests), requests };
  } finally {
    recorded = null;
  }
}

function expectInputError(err: unknown, x: number): void {
  const e = err as Error & { input?: number; cause?: Error & { cause?: Error } };
  expect(e).toBeInstanceOf(Error);
  expect(e.name).toBe("InputError");
  expect(e.message).toBe(`input ${x} is a multiple of 3`);
  expect(e.input).toBe(x);
  expect(e.stack).toMatch(/parallel\.ts/); // the remote stack, pointing into the app's source
  expect(e.cause?.name).toBe("RangeError");
  expect(e.cause?.message).toBe(`${x} % 3 === 0`);
  expect(e.cause?.cause?.name).toBe("TypeError");
  expect(e.cause?.cause?.message).toBe(`root cause of ${x}`);
}

const idle = (s: FunctionStats): boolean => s.backlog === 0 && s.runningInputs === 0;

beforeAll(async () => {
  subscribe(RESPONSES, onResponse);
  await deploy("test/e2e/apps/parallel.ts");
});

afterAll(() => {
  unsubscribe(RESPONSES, onResponse);
});

describe("map, starmap and forEach", () => {
  it("map yields one output per input, in input order, from any iterable or async iterable", async () => {
    const square = await fn<[number], number>("square");
    expect(await square.map([1, 2, 3]).toArray()).toEqual([1, 4, 9]);
    async function* slowly(): AsyncGenerator<number> {
      for (let i = 0; i < 30; i++) {
        if (i % 10 === 0) await sleep(50);
        yield i;
      }
    }
    const out: number[] = [];
    for await (const y of square.map(slowly())) out.push(y);
    expect(out).toEqual(Array.from({ length: 30 }, (_, i) => i * i));
    expect(await square.map(new Set([4, 5])).toArray()).toEqual([16, 25]);
    expect(await square.map([]).toArray()).toEqual([]);
    const stream = square.map([6]);
    expect(await stream.toArray()).toEqual([36]);
    await expect(stream.toArray()).rejects.toBeInstanceOf(InvalidError); // a stream runs once
  });

  it("orderOutputs: false yields outputs as they complete", async () => {
    const sleepy = await fn<[number], number>("sleepy");
    await sleepy.remote(0); // a warm container: all three inputs start together
    const [asCompleted, ordered] = await Promise.all([sleepy.map([1_500, 20, 700], { orderOutputs: false }).toArray(), sleepy.map([1_500, 20, 700]).toArray()]);
    expect(asCompleted).toEqual([20, 700, 1_500]);
    expect(ordered).toEqual([1_500, 20, 700]);
  });

  it("starmap spreads each item as the arguments", async () => {
    const add = await fn<[number, number], number>("add");
    expect(
      await add
        .starmap([
          [1, 2],
          [3, 4],
          [5, 6],
        ])
        .toArray(),
    ).toEqual([3, 7, 11]);
    function* pairs(): Generator<[number, number]> {
      for (let i = 0; i < 100; i++) yield [i, 1_000];
    }
    expect(
      await add
        .starmap(pairs(), { orderOutputs: false })
        .toArray()
        .then((xs) => xs.sort((a, b) => a - b)),
    ).toEqual(Array.from({ length: 100 }, (_, i) => i + 1_000));
  });

  it("forEach runs every input once and returns nothing; a failure makes it throw", async () => {
    const tally = await fn<[{ file: string; i: number }], number>("tally");
    const file = unique("for-each");
    try {
      expect(await tally.forEach(Array.from({ length: 200 }, (_, i) => ({ file, i })))).toBeUndefined();
      const lines = readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map(Number)
        .sort((a, b) => a - b);
      expect(lines).toEqual(Array.from({ length: 200 }, (_, i) => i));
    } finally {
      rmSync(file, { force: true });
    }
    const failSome = await fn<[number], number>("failSome");
    const err = await settle(failSome.forEach([1, 2, 3, 4]));
    expectInputError(err, 3);
    expect(failedInputIndex(err)).toBe(2);
  });

  it("a map sends its inputs in batches, never one request per input, over HTTP and on its pool's call channel", async () => {
    const square = await fn<[number], number>("square");
    const n = 5_000;
    // What went on the call channel: a frame answered there (null sends it over HTTP, recorded below).
    const onChannel = { puts: 0, reads: 0 };
    const { putInputs, getOutputs } = CallChannels.prototype;
    CallChannels.prototype.putInputs = async function (...args) {
      const answer = await putInputs.apply(this, args);
      if (answer) onChannel.puts++;
      return answer;
    };
    CallChannels.prototype.getOutputs = async function (...args) {
      const answer = await getOutputs.apply(this, args);
      if (answer) onChannel.reads++;
      return answer;
    };
    let recorded: Awaited<ReturnType<typeof recording<number[]>>>;
    try {
      recorded = await recording(() => square.map(Array.from({ length: n }, (_, i) => i)).toArray());
    } finally {
      Object.assign(CallChannels.prototype, { putInputs, getOutputs });
    }
    const { result, requests } = recorded;
    expect(result).toEqual(Array.from({ length: n }, (_, i) => i * i));
    const sends = requests.filter((r) => r.method === "POST" && /\/calls$|\/inputs$/.test(r.path)).length + onChannel.puts;
    const polls = requests.filter((r) => r.method === "GET" && r.path.endsWith("/outputs")).length + onChannel.reads;
    console.log(`map of ${n}: ${sends} sends of inputs (${onChannel.puts} on the call channel), ${polls} output reads (${onChannel.reads} on the channel)`);
    expect(onChannel.puts, "batches put on the call channel").toBeGreaterThan(0);
    // Up to 500 inputs a request; as outputs free room in the 1 000-input window, batches may be smaller.
    expect(sends).toBeGreaterThanOrEqual(n / 500);
    expect(sends).toBeLessThanOrEqual(n / 50);
    expect(polls).toBeLessThanOrEqual(n / 50); // each read brings back many outputs
  });

  it("keeps at most 1 000 inputs of one map in flight, pulling lazily from an endless source; breaking out cancels the rest", async () => {
    const noop = await fn<[number], number>("noop");
    let pulled = 0;
    function* endless(): Generator<number> {
      for (;;) yield pulled++;
    }
    let received = 0;
    let maxInFlight = 0;
    for await (const y of noop.map(endless())) {
      expect(y).toBe(received);
      received++;
      maxInFlight = Math.max(maxInFlight, pulled - received);
      if (received % 500 === 0) await sleep(20); // a slow consumer: the window fills up
      if (received === 5_000) break;
    }
    expect(maxInFlight).toBeLessThanOrEqual(1_000);
    expect(maxInFlight).toBeGreaterThan(500);
    expect(pulled).toBeLessThanOrEqual(received + 1_000);
    // Breaking out cancelled the map: nothing of it stays queued or running.
    await eventually("the abandoned map's inputs to go", async () => (idle(await noop.getCurrentStats()) ? true : undefined), 20_000);
  });

  it("a 100 000-input map of a no-op function simply completes, in order", async () => {
    const noop = await fn<[number], number>("noop");
    const n = 100_000;
    function* range(): Generator<number> {
      for (let i = 0; i < n; i++) yield i;
    }
    const started = Date.now();
    let i = 0;
    for await (const y of noop.map(range())) {
      if (y !== i) expect(y).toBe(i); // checked without an assertion per output
      i++;
    }
    const ms = Date.now() - started;
    console.log(`100 000-input map: ${(ms / 1000).toFixed(1)} s, ${Math.round(n / (ms / 1000))} inputs/s`);
    expect(i).toBe(n);
  }, 240_000);
});

describe("spawn and FunctionCall", () => {
  it("spawn returns a FunctionCall at once; get, fromId, gather and `squall call get` read results, more than once", async () => {
    const waitLong = await fn<[number], number>("waitLong");
    const started = Date.now();
    const long = await waitLong.spawn(20_000);
    expect(Date.now() - started).toBeLessThan(5_000); // the call runs 20 s; spawn did not wait for it
    expect(poolIdOfCall(long.id)).not.toBeNull();
    await long.cancel();

    const square = await fn<[number], number>("square");
    const call = await square.spawn(7);
    expect(await call.get()).toBe(49);
    expect(await call.get()).toBe(49); // results stay readable after a read
    expect(await FunctionCall.fromId<number>(client(), call.id).get()).toBe(49); // from another client, by id
    const cli = await squall(["call", "get", call.id, "--json"]);
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ callId: call.id, result: 49 });
    const [a, b, c] = await FunctionCall.gather(await square.spawn(2), await square.spawn(3), await square.spawn(4));
    expect([a, b, c]).toEqual([4, 9, 16]);
    const failSome = await fn<[number], number>("failSome");
    expectInputError(await settle(FunctionCall.gather(await failSome.spawn(1), await failSome.spawn(3))), 3);
    // Kept for 24 hours after their last read, not just until first read.
    expect(RESULT_TTL_MS).toBeGreaterThanOrEqual(24 * 60 * 60 * 1_000);
  });

  it("get({ timeoutMs }) raises FunctionTimeoutError while the call still runs; the result comes later", async () => {
    const sleepy = await fn<[number], number>("sleepy");
    const call = await sleepy.spawn(2_500);
    const started = Date.now();
    const err = await settle(call.get({ timeoutMs: 300 }));
    expect(err).toBeInstanceOf(FunctionTimeoutError);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await call.get()).toBe(2_500);
  });

  it("cancel() ends a running spawned call and a queued one with InputCancellation", async () => {
    const waitLong = await fn<[number], number>("waitLong");
    const running = await waitLong.spawn(60_000);
    await eventually("the spawned call to run", async () => ((await waitLong.getCurrentStats()).runningInputs >= 1 ? true : undefined), 30_000);
    const started = Date.now();
    await running.cancel();
    expect(await settle(running.get())).toBeInstanceOf(InputCancellation);
    expect(Date.now() - started).toBeLessThan(5_000);

    const queued = await waitLong.spawn(60_000);
    await queued.cancel();
    expect(await settle(FunctionCall.fromId(client(), queued.id).get())).toBeInstanceOf(InputCancellation);
    await eventually("waitLong to be idle", async () => (idle(await waitLong.getCurrentStats()) ? true : undefined), 10_000);
  });

  it("5 000 spawned calls go through the spawn queue: every result correct, each call run exactly once", async () => {
    const tally = await fn<[{ file: string; i: number }], number>("tally");
    const file = unique("spawn-5000");
    const n = 5_000;
    try {
      const started = Date.now();
      const calls = await tally.spawnMap(Array.from({ length: n }, (_, i) => ({ file, i })));
      const spawnedMs = Date.now() - started;
      expect(calls).toHaveLength(n);
      expect(new Set(calls.map((c) => c.id)).size).toBe(n);
      // The backlog counts spawned calls still in the queue, so idle means every call ran.
      await eventually("every spawned call to run", async () => (idle(await tally.getCurrentStats()) ? true : undefined), 120_000);
      const ranMs = Date.now() - started;
      const results = await FunctionCall.gather(...calls);
      const gatheredMs = Date.now() - started;
      console.log(`5 000 spawns: spawnMap ${spawnedMs} ms, all run after ${ranMs} ms, all results gathered after ${gatheredMs} ms`);
      expect(results).toEqual(Array.from({ length: n }, (_, i) => i * i));
      const runs = readFileSync(file, "utf8").trim().split("\n").map(Number);
      expect(runs).toHaveLength(n); // no call ran twice (delivery is at least once; admission is idempotent)
      expect(new Set(runs).size).toBe(n);
    } finally {
      rmSync(file, { force: true });
    }
  }, 180_000);
});

describe("exceptions", () => {
  it("without returnExceptions, the first failed input makes the map throw the remote error itself, marked with its input", async () => {
    const failSome = await fn<[number], number>("failSome");
    const seen: number[] = [];
    const err = await settle(
      (async () => {
        for await (const y of failSome.map([1, 2, 3, 4, 5])) seen.push(y);
      })(),
    );
    expect(err).not.toBeInstanceOf(UserCodeException);
    expectInputError(err, 3);
    expect(failedInputIndex(err)).toBe(2);
    expect([10, 20].slice(0, seen.length)).toEqual(seen); // whatever came out before the failure was in order
  });

  it("returnExceptions puts the errors in the stream, each a UserCodeException whose cause is the remote error", async () => {
    const failSome = await fn<[number], number>("failSome");
    const out = await failSome.map([0, 1, 2, 3, 4, 5, 6], { returnExceptions: true }).toArray();
    expect(out.map((o) => (o instanceof Error ? o.name : o))).toEqual(["UserCodeException", 10, 20, "UserCodeException", 40, 50, "UserCodeException"]);
    for (const [i, x] of [
      [0, 0],
      [3, 3],
      [6, 6],
    ] as const) {
      expect(out[i]).toBeInstanceOf(UserCodeException);
      expectInputError((out[i] as Error).cause, x);
    }
  });

  it("wrapReturnedExceptions: false puts the remote errors themselves in the stream", async () => {
    const failSome = await fn<[number], number>("failSome");
    const out = await failSome.map([3, 4, 9], { returnExceptions: true, wrapReturnedExceptions: false, orderOutputs: false }).toArray();
    const errors = out.filter((o): o is Error => o instanceof Error).sort((a, b) => a.message.localeCompare(b.message));
    expect(out.filter((o) => !(o instanceof Error))).toEqual([40]);
    expect(errors).toHaveLength(2);
    expect(errors.some((e) => e instanceof UserCodeException)).toBe(false);
    expectInputError(errors[0], 3);
    expectInputError(errors[1], 9);
  });

  it("remote() rethrows the remote error itself, with name, message, properties, remote stack and cause chain", async () => {
    const failSome = await fn<[number], number>("failSome");
    expect(await failSome.remote(4)).toBe(40);
    expectInputError(await settle(failSome.remote(6)), 6);
  });

  it("an input running past timeoutMs fails with FunctionTimeoutError, in remote() and in a map's stream", async () => {
    const sleepy = await fn<[number], number>("sleepy");
    const err = await settle(sleepy.remote(10_000));
    expect(err).toBeInstanceOf(FunctionTimeoutError);
    expect((err as Error).message).toMatch(/timeoutMs \(4000 ms\)/);
    const out = await sleepy.map([10, 10_000], { returnExceptions: true }).toArray();
    expect(out[0]).toBe(10);
    expect(out[1]).toBeInstanceOf(FunctionTimeoutError);
  }, 60_000);
});

describe("retries", () => {
  it("a retry policy re-runs a failed input with exponential backoff, up to maxRetries", async () => {
    const flaky = await fn<[string, number], number[]>("flaky");
    // Results read with a deadline, so a retry that never comes fails the test rather than hanging it.
    const times = await (await flaky.spawn(randomBytes(6).toString("hex"), 2)).get({ timeoutMs: 30_000 });
    expect(times).toHaveLength(3); // two failures, then success
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(300 - 20); // initialDelayMs
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(600 - 20); // × backoffCoefficient
    const spawned = await flaky.spawn(randomBytes(6).toString("hex"), 10);
    const err = await settle(spawned.get({ timeoutMs: 30_000 }));
    expect((err as Error).message).toMatch(/attempt 4 of .* fails/);
    expect((err as Error & { attempt?: number }).attempt).toBe(4); // 1 + maxRetries 3
    expect(await flaky.remote(randomBytes(6).toString("hex"), 1)).toHaveLength(2); // remote() retries the same way
  });

  it("retries as a number: a failing input runs 1 + retries times, then its error is raised", async () => {
    const alwaysFails = await fn<[string], never>("alwaysFails");
    const call = await alwaysFails.spawn(randomBytes(6).toString("hex"));
    const err = await settle(call.get({ timeoutMs: 30_000 })); // default backoff: 1 s, then 2 s
    expect((err as Error).message).toMatch(/attempt 3 of .* failed/);
    expect((err as Error & { attempt?: number }).attempt).toBe(3);
  });

  it("a container lost mid-input re-queues the input without using a retry", async () => {
    const dieOnce = await fn<[string], string>("dieOnce");
    const key = randomBytes(6).toString("hex");
    try {
      // dieOnce declares no retries: the input survives only because a lost container does not count as one.
      expect(await dieOnce.remote(key)).toMatch(/^survived on ct-/);
    } finally {
      rmSync(join(tmpdir(), `squall-e2e-die-once-${key}`), { force: true });
    }
  });
});

describe("inputs sent ahead of free slots", () => {
  it("a one-slot container is sent more inputs while it runs one, once its inputs ran short; each result comes back in order", async () => {
    // A variant of `hold` is a pool of its own: nothing else has taught it how long inputs take.
    const hold = (await fn<[string, number], number>("hold")).withOptions({ maxContainers: 1 });
    const open = unique("open");
    const gate = unique("gate");
    writeFileSync(open, "open");
    try {
      // Short inputs first, so the pool knows they are short.
      expect(await hold.starmap(Array.from({ length: 20 }, (_, i): [string, number] => [open, i])).toArray()).toEqual(Array.from({ length: 20 }, (_, i) => i));
      const map = hold.starmap(Array.from({ length: 4 }, (_, i): [string, number] => [gate, 100 + i])).toArray();
      // The first waits at the gate; the other three are already at its container, queued behind it.
      const held = await eventually(
        "the container to hold all four inputs",
        async () => {
          const s = await hold.getCurrentStats();
          return s.runningInputs === 4 && s.backlog === 0 ? s : undefined;
        },
        30_000,
      );
      expect(held.containers.total).toBe(1);
      writeFileSync(gate, "open");
      expect(await map).toEqual([100, 101, 102, 103]);
    } finally {
      rmSync(open, { force: true });
      rmSync(gate, { force: true });
    }
  });
});

describe("limits", () => {
  it("2 100 concurrent remote()s against one single-input container: 2 000 pending plus the running one are admitted and succeed, the rest get ResourceExhaustedError; a map waits its turn", async () => {
    const hold = await fn<[string, number], number>("hold");
    const gate = unique("gate");
    const n = 2_100;
    try {
      const outcomes: Array<number | Error | undefined> = new Array(n);
      const started = Date.now();
      const all = Promise.all(Array.from({ length: n }, (_, i) => settle(hold.remote(gate, i)).then((o) => void (outcomes[i] = o))));
      const failedNow = (): number => outcomes.filter((o) => o instanceof Error).length;
      // The gate is shut, so nothing completes: every remote() is either queued, running, or refused.
      const admitted = await eventually(
        "every remote() to be admitted or refused",
        async () => {
          const s = await hold.getCurrentStats();
          return s.backlog + s.runningInputs + failedNow() === n ? s.backlog + s.runningInputs : undefined;
        },
        120_000,
      );
      const arrivedMs = Date.now() - started;
      // The pool is full: a map is refused (429) and waits, rather than failing.
      const { result: mapped, requests } = await recording(async (requests) => {
        const map = hold.starmap(Array.from({ length: 20 }, (_, i): [string, number] => [gate, n + i])).toArray();
        await eventually(
          "the map to be told to wait",
          async () => (requests.some((r) => r.status === 429 && r.path.endsWith("/calls")) ? true : undefined),
          30_000,
        );
        expect(outcomes.filter((o) => o !== undefined && !(o instanceof ResourceExhaustedError))).toEqual([]); // nothing completed yet
        writeFileSync(gate, "open");
        return map;
      });
      await all;
      const refused = outcomes.filter((o): o is ResourceExhaustedError => o instanceof ResourceExhaustedError);
      const succeeded = outcomes.filter((o) => typeof o === "number");
      console.log(
        `2 100 remotes: ${admitted} admitted (${succeeded.length} succeeded), ${refused.length} refused; all answered within ${arrivedMs} ms, done after ${Date.now() - started} ms`,
      );
      expect(admitted).toBeLessThanOrEqual(MAX_PENDING_INPUTS + 1); // 2 000 pending + the one running
      expect(refused.length).toBeGreaterThanOrEqual(n - MAX_PENDING_INPUTS - 1);
      expect(succeeded.length + refused.length).toBe(n); // no other outcome
      expect(succeeded.length).toBe(admitted);
      outcomes.forEach((o, i) => {
        if (typeof o === "number") expect(o).toBe(i);
      });
      expect(refused[0].retryAfterMs).toBeGreaterThan(0);
      expect(refused[0].message).toMatch(/limit is 2000/);
      expect(mapped).toEqual(Array.from({ length: 20 }, (_, i) => n + i));
      expect(requests.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(1);
    } finally {
      if (!existsSync(gate)) writeFileSync(gate, "open"); // never leave inputs held
      await eventually("hold to drain", async () => (idle(await hold.getCurrentStats()) ? true : undefined), 120_000).catch(() => undefined);
      rmSync(gate, { force: true });
    }
  }, 240_000);
});

describe("bad input", () => {
  it("unserializable arguments raise InvalidError naming the argument position, before anything is sent", async () => {
    const square = await fn<[unknown], number>("square");
    const add = await fn<[unknown, unknown], number>("add");
    const { requests } = await recording(async () => {
      const cases: Array<[Promise<unknown>, RegExp]> = [
        [square.remote(() => 1), /argument 1 of square\.remote\(\): the value \(a function\) cannot be serialized/],
        [add.remote(1, { when: new Date(), save: () => 0 }), /argument 2 of add\.remote\(\): \.save \(a function\)/],
        [add.spawn(1, Symbol("s")), /argument 2 of add\.spawn\(\)/],
        [square.map([1, 2, new (class Point {})()]).toArray(), /input 2 of square\.map\(\): the value \(an instance of Point/],
        [
          add
            .starmap([
              [1, 2],
              [3, () => 4],
            ])
            .toArray(),
          /argument 2 of input 1 of add\.starmap\(\)/,
        ],
        [square.spawnMap([1, () => 2]), /input 1 of square\.spawnMap\(\)/],
      ];
      for (const [promise, message] of cases) {
        const err = await settle(promise);
        expect(err).toBeInstanceOf(InvalidError);
        expect((err as Error).message).toMatch(message);
      }
    });
    // Lookups aside, nothing went out: no call, input or spawn request.
    expect(requests.filter((r) => r.method === "POST")).toEqual([]);
  });

  it("arguments over the 2 MB inline limit are refused with a clear size error, by the SDK and by the API", async () => {
    const byteLength = await fn<[Uint8Array], number>("byteLength");
    const tooBig = new Uint8Array(2_000_001);
    const { requests } = await recording(async () => {
      for (const attempt of [byteLength.remote(tooBig), byteLength.map([tooBig]).toArray(), byteLength.spawnMap([tooBig])] as Array<Promise<unknown>>) {
        const err = await settle(attempt);
        expect(err).toBeInstanceOf(InvalidError);
        expect((err as Error).message).toMatch(/arguments are 200000\d bytes serialized; the limit is 2000000 bytes per input/);
      }
    });
    expect(requests.filter((r) => r.method === "POST")).toEqual([]); // refused before anything was sent
    // A client that skips the SDK's check gets 413 from the API.
    const lookup = await realFetch(`${inject("squallUrl")}/v1/apps/parallel/functions/byteLength`, {
      headers: { authorization: `Bearer ${inject("squallToken")}` },
    });
    const { functionId } = (await lookup.json()) as { functionId: string };
    const res = await realFetch(`${inject("squallUrl")}/v1/functions/${functionId}/calls`, {
      method: "POST",
      headers: { authorization: `Bearer ${inject("squallToken")}`, "content-type": "application/cbor" },
      body: encode({ kind: "remote", inputs: [{ idx: 0, args: encode([tooBig]) }], closed: true }) as BodyInit,
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /input 0: arguments are \d+ bytes; the limit is 2000000 bytes per input/,
    );
  });

  it("results up to the size limit come back on a call channel", async () => {
    await throughProxy(async (proxy, c) => {
      const bytesOf = await c.functions.fromName<[number], Uint8Array>("parallel", "bytesOf");
      await channelOpened(proxy, () => bytesOf.remote(10));
      const postsBefore = proxy.callPosts;
      for (const n of [1_000, 1_015_000]) {
        const result = await bytesOf.remote(n);
        expect(result.byteLength).toBe(n);
        expect(result.every((b) => b === 7)).toBe(true);
      }
      // Neither went over HTTP: a channel that could not carry the answer would have sent its call again there.
      expect(proxy.callPosts).toBe(postsBefore);
    });
  }, 60_000);

  it("arguments up to the 2 MB inline limit are accepted, in remote() and in a map", async () => {
    const byteLength = await fn<[Uint8Array], number>("byteLength");
    const big = 2_000_000 - 64;
    expect(await byteLength.remote(new Uint8Array(big))).toBe(big);
    // Twenty near-limit inputs are 40 MB: more than one request may carry (the API takes 32 MiB), so the SDK splits the batch.
    expect(await byteLength.map(Array.from({ length: 20 }, () => new Uint8Array(big))).toArray()).toEqual(new Array(20).fill(big));
  }, 60_000);

  it("malformed call ids are refused (400) and unknown ones are not found (404)", async () => {
    const square = await fn<[number], number>("square");
    const known = await square.spawn(1);
    const unknownOfPool = mintCallId(poolIdOfCall(known.id)!, Date.now());
    for (const id of ["nope", "fc-123", `${known.id}x`, "fc-../../v1/apps"]) {
      expect(await settle(FunctionCall.fromId(client(), id).get())).toBeInstanceOf(InvalidError);
    }
    expect(await settle(FunctionCall.fromId(client(), unknownOfPool).get())).toBeInstanceOf(NotFoundError);
    expect(await settle(FunctionCall.fromId(client(), mintCallId("0".repeat(64), Date.now())).get())).toBeInstanceOf(NotFoundError);
    expect(await settle(FunctionCall.fromId(client(), unknownOfPool).cancel())).toBeInstanceOf(NotFoundError);
    const raw = (path: string): Promise<number> =>
      realFetch(`${inject("squallUrl")}${path}`, { headers: { authorization: `Bearer ${inject("squallToken")}` } }).then((r) => r.status);
    expect(await raw("/v1/calls/nope/outputs")).toBe(400);
    expect(await raw(`/v1/calls/${unknownOfPool}/outputs`)).toBe(404);
    expect(await known.get()).toBe(1);
  });
});

describe("parallelism across containers", () => {
  it("Promise.all over many remote()s runs them at once, across containers", async () => {
    const whoAmI = await fn<[number], string>("whoAmI");
    const started = Date.now();
    const containers = await Promise.all(Array.from({ length: 8 }, () => whoAmI.remote(1_500)));
    const ms = Date.now() - started;
    // One input per container (maxInputs 1), at most 4 containers: one after another this is 12 s.
    expect(ms).toBeLessThan(8 * 1_500);
    expect(new Set(containers).size).toBeGreaterThanOrEqual(2);
    expect(new Set(containers).size).toBeLessThanOrEqual(4);
  });
});

describe("squall app stop", () => {
  it("cancels everything pending and running: remote(), map and spawned callers get InputCancellation", async () => {
    await deploy("test/e2e/apps/parallel-stop.ts");
    const block = await fn<[number], number>("block", "parallel-stop");
    const remotes = Array.from({ length: 4 }, () => settle(block.remote(60_000)));
    const map = settle(block.map([60_000, 60_000, 60_000]).toArray());
    const spawned = await block.spawn(60_000);
    // Spawned calls have their own limit (1 000 000 pending), far above the 2 000 pending inputs of remote()/map.
    const many = await block.spawnMap(Array.from({ length: 3_000 }, () => 60_000));
    const queued = 4 + 3 + 1 + 3_000 - 2;
    await eventually(
      `2 running and ${queued} queued inputs`,
      async () => {
        const s = await block.getCurrentStats();
        return s.runningInputs === 2 && s.backlog === queued ? true : undefined;
      },
      30_000,
    );
    const stop = await squall(["app", "stop", "parallel-stop", "--json"]);
    expect(stop.code).toBe(0);
    for (const outcome of await Promise.all(remotes)) expect(outcome).toBeInstanceOf(InputCancellation);
    expect(await map).toBeInstanceOf(InputCancellation);
    // Spawned calls too, whether or not they had left the spawn queue when the app stopped.
    for (const call of [spawned, ...many.filter((_, i) => i % 250 === 0), many[many.length - 1]]) {
      expect(await settle(call.get({ timeoutMs: 10_000 }))).toBeInstanceOf(InputCancellation);
    }
    expect(JSON.parse(stop.stdout)).toMatchObject({ appName: "parallel-stop", cancelledInputs: queued + 2 });
    // A stopped app takes no calls until it is deployed again.
    expect(await settle(block.remote(1))).toBeInstanceOf(NotFoundError);
  }, 120_000);
});

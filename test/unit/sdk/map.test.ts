import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeApi, FakeOutcome } from "../fixtures/fake-api";
import { Client } from "../../../sdk/src/client";
import { decode } from "../../../sdk/src/wire/serialization";
import { FunctionTimeoutError, InvalidError, UserCodeException } from "../../../sdk/src/errors";
import { MAP_MAX_IN_FLIGHT, failedInputIndex } from "../../../sdk/src/map";
import { sleep } from "../../fixtures/wait";

class ValueError extends Error {
  override name = "ValueError";
}

let fake: FakeApi;
let client: Client;

beforeAll(async () => {
  fake = await new FakeApi().start();
  client = new Client({ url: fake.url, token: fake.token });
  fake.define("maps", {
    square: ({ args }) => (args[0] as number) ** 2,
    // Later inputs finish first, so completion order is the reverse of input order.
    reversed: async ({ args }) => {
      const [x, n] = args as [number, number];
      await sleep((n - x) * 15);
      return x;
    },
    oddFails: ({ args }) => {
      const x = args[0] as number;
      if (x % 2 === 1) {
        const err = new ValueError(`odd input ${x}`);
        err.stack = `ValueError: odd input ${x}\n    at checkParity (remote.ts:3:9)`;
        throw err;
      }
      return x;
    },
    threeTimesOut: ({ args }) => {
      if (args[0] === 3) throw new FakeOutcome("timeout", "input ran longer than timeoutMs");
      return args[0];
    },
    slow: async ({ args }) => {
      await sleep(30);
      return args[0];
    },
    // Outputs spread over ~400 ms, so a map needs many output polls.
    staggered: async ({ args }) => {
      await sleep(((args[0] as number) % 20) * 20);
      return args[0];
    },
  });
});

afterAll(() => fake.close());

afterEach(() => {
  fake.requests.length = 0;
  fake.rejectInputsWith429 = 0;
  fake.rejectInputRequestsAt.clear();
  fake.dropOutputPolls = 0;
  fake.repeatOutputs = 0;
});

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function lastMapCallId(): string {
  return [...fake.calls.keys()].at(-1)!;
}

describe("map()", () => {
  it("yields outputs in input order by default, and as they complete with orderOutputs: false", async () => {
    const n = 12;
    const f = await client.functions.fromName<[[number, number]], number>("maps", "reversed");
    // starmap spreads each item as the argument list
    expect(await f.starmap(range(n).map((x) => [x, n] as never)).toArray()).toEqual(range(n));
    const unordered = await f
      .starmap(
        range(n).map((x) => [x, n] as never),
        { orderOutputs: false },
      )
      .toArray();
    expect(unordered).toEqual(range(n).reverse());
  });

  it("takes async iterables, and sends inputs in batches: first creates the call, the last closes it", async () => {
    const square = await client.functions.fromName<[number], number>("maps", "square");
    async function* inputs() {
      for (let i = 0; i < 1_200; i++) yield i;
    }
    expect(await square.map(inputs()).toArray()).toEqual(range(1_200).map((x) => x * x));
    const create = fake.requestsTo("POST", /\/calls$/);
    const puts = fake.requestsTo("POST", /\/inputs$/);
    expect(create).toHaveLength(1);
    const createBody = create[0].body as { kind: string; closed: boolean; inputs: Array<{ idx: number; args: Uint8Array }> };
    expect(createBody.kind).toBe("map");
    expect(createBody.closed).toBe(false);
    expect(decode(createBody.inputs[1].args)).toEqual([1]);
    const sizes = [createBody.inputs.length, ...puts.map((p) => (p.body as { inputs: unknown[] }).inputs.length)];
    expect(Math.max(...sizes)).toBeLessThanOrEqual(500);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1_200);
    expect((puts.at(-1)!.body as { closed: boolean }).closed).toBe(true);
  });

  it("makes no request for an empty input collection", async () => {
    const square = await client.functions.fromName("maps", "square");
    fake.requests.length = 0;
    expect(await square.map([]).toArray()).toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });

  it("throws the remote error itself, marked with its input, and cancels the call", async () => {
    const f = await client.functions.fromName("maps", "oddFails");
    const err = await f
      .map([0, 2, 4, 5, 6])
      .toArray()
      .catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(UserCodeException);
    expect((err as Error).name).toBe("ValueError");
    expect((err as Error).message).toBe("odd input 5");
    expect(failedInputIndex(err)).toBe(3);
    expect(Object.keys(err as Error)).not.toContain("squallInputIndex"); // the error looks as it did remotely
    expect(fake.cancelledCalls).toContain(lastMapCallId());
  });

  it("with the client's error classes, a map throws an instance of the remote error's class", async () => {
    const typed = new Client({ url: fake.url, token: fake.token, errors: [ValueError] });
    const f = await typed.functions.fromName("maps", "oddFails");
    const err = await f
      .map([1])
      .toArray()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValueError);
    expect(failedInputIndex(err)).toBe(0);
  });

  it("returnExceptions puts UserCodeExceptions into the stream, or the rebuilt remote error with wrapReturnedExceptions: false", async () => {
    const f = await client.functions.fromName<[number], number>("maps", "oddFails");
    const wrapped = await f.map([0, 1, 2, 3], { returnExceptions: true }).toArray();
    expect(wrapped[0]).toBe(0);
    expect(wrapped[2]).toBe(2);
    expect(wrapped[1]).toBeInstanceOf(UserCodeException);
    expect(((wrapped[1] as Error).cause as Error).message).toBe("odd input 1");
    expect(failedInputIndex(wrapped[1])).toBe(1);

    const bare = await f.map([0, 1, 2, 3], { returnExceptions: true, wrapReturnedExceptions: false }).toArray();
    const remote = bare[3] as Error;
    expect(remote).not.toBeInstanceOf(UserCodeException);
    expect(remote.name).toBe("ValueError");
    expect(remote.message).toBe("odd input 3");
    expect(failedInputIndex(remote)).toBe(3);
    expect(remote.stack).toContain("checkParity (remote.ts:3:9)");
  });

  it("maps a timeout output to FunctionTimeoutError, thrown or returned", async () => {
    const f = await client.functions.fromName("maps", "threeTimesOut");
    await expect(f.map([1, 2, 3, 4]).toArray()).rejects.toThrow(FunctionTimeoutError);
    const out = await f.map([1, 2, 3, 4], { returnExceptions: true }).toArray();
    expect(out[2]).toBeInstanceOf(FunctionTimeoutError);
    expect(out[3]).toBe(4);
  });

  it("waits out 429 on inputs and resends the same batch: no input lost or duplicated", async () => {
    const square = await client.functions.fromName<[number], number>("maps", "square");
    // Reject the create call's first attempt and the first attempt of each later batch.
    const first = fake.inputRequestCount;
    for (const n of [1, 3, 5, 7]) fake.rejectInputRequestsAt.add(first + n);
    const started = Date.now();
    const out = await square.map(range(1_600)).toArray();
    expect(out).toEqual(range(1_600).map((x) => x * x));
    expect(fake.rejectInputRequestsAt.size).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4 * fake.retryAfterMs);
    const callId = lastMapCallId();
    expect(fake.calls.get(callId)!.inputs.size).toBe(1_600);
    expect(fake.duplicateInputs.get(callId) ?? 0).toBe(0);
  });

  it("survives a dropped output poll and repeated outputs: each output exactly once", async () => {
    const square = await client.functions.fromName<[number], number>("maps", "staggered");
    fake.dropOutputPolls = 1;
    fake.repeatOutputs = 2;
    const out = await square.map(range(300), { orderOutputs: false }).toArray();
    expect(out.slice().sort((a, b) => a - b)).toEqual(range(300));
    expect(fake.dropOutputPolls).toBe(0);
    expect(fake.repeatOutputs).toBe(0);
  });

  it("keeps at most 1000 inputs in flight and pulls the source lazily", async () => {
    const f = await client.functions.fromName<[number], number>("maps", "square");
    const total = 20_000;
    let pulled = 0;
    let consumed = 0;
    let maxAhead = 0;
    function* inputs() {
      for (let i = 0; i < total; i++) {
        pulled++;
        maxAhead = Math.max(maxAhead, pulled - consumed);
        yield i;
      }
    }
    let sum = 0;
    for await (const y of f.map(inputs(), { orderOutputs: false })) {
      consumed++;
      sum += y;
      if (consumed % 2_000 === 0) await sleep(5); // a slow consumer must hold the source back
    }
    expect(consumed).toBe(total);
    expect(sum).toBe(range(total).reduce((a, x) => a + x * x, 0));
    expect(maxAhead).toBeLessThanOrEqual(MAP_MAX_IN_FLIGHT + 1);
    expect(fake.maxOutstanding.get(lastMapCallId())).toBeLessThanOrEqual(MAP_MAX_IN_FLIGHT);
    expect(fake.maxOutstanding.get(lastMapCallId())).toBeGreaterThan(100); // and it does run many at once
  });

  it("cancels the call when the caller breaks out early", async () => {
    const f = await client.functions.fromName<[number], number>("maps", "slow");
    const seen: number[] = [];
    for await (const y of f.map(range(100))) {
      seen.push(y);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual([0, 1, 2]);
    expect(fake.cancelledCalls).toContain(lastMapCallId());
  });

  it("a generator source: its error ends the map with it, and breaking out early runs its finally", async () => {
    const f = await client.functions.fromName<[number], number>("maps", "square");
    function* failing() {
      yield 1;
      yield 2;
      throw new Error("the source broke at 3");
    }
    await expect(f.map(failing()).toArray()).rejects.toThrow("the source broke at 3");
    let closed = false;
    function* endless() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed = true;
      }
    }
    const seen: number[] = [];
    for await (const y of f.map(endless())) {
      seen.push(y);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual([0, 1, 4]);
    await sleep(10);
    expect(closed).toBe(true);
  });

  it("refuses an unserializable input, naming its position, and forEach drains", async () => {
    const f = await client.functions.fromName("maps", "square");
    const err = await f
      .map([1, 2, { cb: () => 1 }])
      .toArray()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidError);
    expect((err as Error).message).toBe("input 2 of square.map(): .cb (a function) cannot be serialized");
    await expect(f.forEach(range(10))).resolves.toBeUndefined();
    expect(() => f.map(5 as never)).toThrow(InvalidError);
  });

  it("a MapStream runs once", async () => {
    const f = await client.functions.fromName("maps", "square");
    const stream = f.map([1]);
    await stream.toArray();
    await expect(stream.toArray()).rejects.toThrow(/already been iterated/);
  });
});

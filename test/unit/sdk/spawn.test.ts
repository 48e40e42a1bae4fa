import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeApi } from "../fixtures/fake-api";
import { Client } from "../../../sdk/src/client";
import { FunctionCall } from "../../../sdk/src/function-call";
import { decode } from "../../../sdk/src/wire/serialization";
import { mintCallId } from "../../../src/pool/call-id";
import { FunctionTimeoutError, InputCancellation, NotFoundError } from "../../../sdk/src/errors";
import { sleep } from "../../fixtures/wait";

let fake: FakeApi;
let client: Client;

beforeAll(async () => {
  fake = await new FakeApi().start();
  fake.maxWaitMs = 50; // so get() has to poll more than once for slow calls
  client = new Client({ url: fake.url, token: fake.token });
  fake.define("jobs", {
    double: ({ args }) => (args[0] as number) * 2,
    slow: async ({ args }) => {
      await sleep(200);
      return args[0];
    },
    fail: () => {
      throw new RangeError("out of range");
    },
  });
});

afterAll(() => fake.close());

afterEach(() => {
  fake.requests.length = 0;
  fake.rejectInputsWith429 = 0;
  fake.retryAfterMs = 50;
});

describe("spawn()", () => {
  it("returns a FunctionCall at once whose get() waits for the result", async () => {
    const slow = await client.functions.fromName<[string], string>("jobs", "slow");
    const call = await slow.spawn("hello");
    expect(call.id).toMatch(/^call-/);
    expect(fake.calls.get(call.id)!.outputs).toHaveLength(0); // spawn did not wait for the 200 ms run
    const [req] = fake.requestsTo("POST", /\/spawns$/);
    expect(decode((req.body as { inputs: Array<{ args: Uint8Array }> }).inputs[0].args)).toEqual(["hello"]);
    expect(await call.get()).toBe("hello");
    expect(fake.requestsTo("GET", /\/outputs$/).length).toBeGreaterThan(1);
  });

  it("get({ timeoutMs }) gives up with FunctionTimeoutError; a later get() still returns the result", async () => {
    const slow = await client.functions.fromName("jobs", "slow");
    const call = await slow.spawn(7);
    // Had get() waited past the 200 ms run, it would have returned 7 instead of throwing.
    await expect(call.get({ timeoutMs: 60 })).rejects.toThrow(FunctionTimeoutError);
    expect(await call.get()).toBe(7);
  });

  it("fromId reads a call spawned elsewhere; a remote failure re-throws from get()", async () => {
    const fail = await client.functions.fromName("jobs", "fail");
    const { id } = await fail.spawn();
    const err = await FunctionCall.fromId(client, id)
      .get()
      .catch((e: unknown) => e);
    expect((err as Error).name).toBe("RangeError");
    expect((err as Error).message).toBe("out of range");
    await expect(FunctionCall.fromId(client, "call-nope").get()).rejects.toThrow(NotFoundError);
  });

  it("cancel() makes get() raise InputCancellation", async () => {
    const slow = await client.functions.fromName("jobs", "slow");
    const call = await slow.spawn(1);
    await call.cancel();
    expect(fake.cancelledCalls).toContain(call.id);
    await expect(call.get()).rejects.toThrow(InputCancellation);
  });

  it("gather returns results in call order, and throws the first failure", async () => {
    const double = await client.functions.fromName<[number], number>("jobs", "double");
    const slow = await client.functions.fromName<[number], number>("jobs", "slow");
    const calls = [await slow.spawn(1), await double.spawn(2), await double.spawn(3)] as const;
    const results: [number, number, number] = await FunctionCall.gather(...calls);
    expect(results).toEqual([1, 4, 6]);
    const fail = await client.functions.fromName("jobs", "fail");
    await expect(FunctionCall.gather(await double.spawn(1), await fail.spawn())).rejects.toThrow("out of range");
  });

  it("spawnMap sends batches of at most 500 and waits out 429", async () => {
    const double = await client.functions.fromName<[number], number>("jobs", "double");
    fake.rejectInputsWith429 = 1;
    fake.retryAfterMs = 500; // long enough for the other batches to go out first, even on a loaded machine
    const calls = await double.spawnMap(Array.from({ length: 1_100 }, (_, i) => i));
    expect(calls).toHaveLength(1_100);
    const sizes = fake.requestsTo("POST", /\/spawns$/).map((r) => (r.body as { inputs: unknown[] }).inputs.length);
    expect(sizes).toEqual([500, 500, 100, 500]); // the first batch was refused once, and resent after the others went out
    expect(new Set(calls.map((c) => c.id)).size).toBe(1_100);
    expect(await calls[1_099].get()).toBe(2_198);
  });
});

describe("get({ timeoutMs }) when the platform cannot be reached", () => {
  it("gives up at its deadline with FunctionTimeoutError, not after the retries' own ~20 s of back-off", async () => {
    // Nothing listens on port 9: every poll fails as a dropped connection would, and is retried.
    const unreachable = new Client({ url: "http://127.0.0.1:9", token: "sq_unused" });
    const call = FunctionCall.fromId(unreachable, mintCallId("0".repeat(64), Date.now()));
    await expect(call.get({ timeoutMs: 300 })).rejects.toBeInstanceOf(FunctionTimeoutError);
  }, 10_000);
});

describe("spawnMap()", () => {
  it("sends several batches at once and returns the calls in input order, even when an earlier batch is admitted last", async () => {
    const double = await client.functions.fromName<[number], number>("jobs", "double");
    // The first batch is refused once (429) and sent again after the later ones went out.
    fake.rejectInputRequestsAt.add(fake.inputRequestCount + 1);
    fake.retryAfterMs = 500;
    const calls = await double.spawnMap(Array.from({ length: 1_800 }, (_, i) => i));
    const sent = fake.requestsTo("POST", /\/spawns$/).map((r) => (r.body as { inputs: Array<{ idx: number }> }).inputs[0].idx);
    expect(sent).toEqual([0, 500, 1_000, 1_500, 0]);
    expect(await FunctionCall.gather(...calls)).toEqual(Array.from({ length: 1_800 }, (_, i) => i * 2));
  });
});

// How the SDK sizes what it sends: batches stay under the API's 32 MiB body
// limit however large each input is, arguments over the 2 MB inline limit
// never leave the process, and gather() reads thousands of results without
// opening thousands of connections.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeApi } from "../fixtures/fake-api";
import { Client } from "../../../sdk/src/client";
import { FunctionCall } from "../../../sdk/src/function-call";
import { InvalidError } from "../../../sdk/src/errors";

const MiB = 1024 * 1024;
const API_BODY_LIMIT = 32 * MiB;

let fake: FakeApi;
let client: Client;

beforeAll(async () => {
  fake = await new FakeApi().start();
  client = new Client({ url: fake.url, token: fake.token });
  fake.define("batching", {
    size: ({ args }) => (args[0] as Uint8Array).byteLength,
    double: ({ args }) => (args[0] as number) * 2,
  });
});

afterAll(() => fake.close());

afterEach(() => {
  fake.requests.length = 0;
});

/** Bytes of arguments in each request that carried inputs. */
function inputBytesPerRequest(): number[] {
  return fake.requests
    .filter((r) => r.method === "POST" && /\/(calls|inputs|spawns)$/.test(r.path))
    .map((r) => ((r.body as { inputs: Array<{ args: Uint8Array }> }).inputs ?? []).reduce((n, i) => n + i.args.byteLength, 0));
}

describe("request sizes", () => {
  it("a map of many large inputs is split into requests the API accepts", async () => {
    const size = await client.functions.fromName<[Uint8Array], number>("batching", "size");
    const big = 1_900_000;
    expect(await size.map(Array.from({ length: 20 }, () => new Uint8Array(big))).toArray()).toEqual(new Array(20).fill(big));
    const sizes = inputBytesPerRequest();
    expect(sizes.length).toBeGreaterThanOrEqual(2); // 38 MB cannot go in one request
    for (const bytes of sizes) expect(bytes).toBeLessThan(API_BODY_LIMIT - MiB);
  });

  it("spawnMap splits large inputs the same way", async () => {
    const size = await client.functions.fromName<[Uint8Array], number>("batching", "size");
    const calls = await size.spawnMap(Array.from({ length: 20 }, () => new Uint8Array(1_900_000)));
    expect(calls).toHaveLength(20);
    for (const bytes of inputBytesPerRequest()) expect(bytes).toBeLessThan(API_BODY_LIMIT - MiB);
    expect(await FunctionCall.gather(...calls)).toEqual(new Array(20).fill(1_900_000));
  });

  it("arguments over 2 MB are refused before anything is sent, naming the call and the input", async () => {
    const size = await client.functions.fromName<[Uint8Array], number>("batching", "size");
    const tooBig = new Uint8Array(2_000_001);
    await expect(size.remote(tooBig)).rejects.toThrow(/^size\.remote\(\): the arguments are \d+ bytes serialized; the limit is 2000000 bytes per input/);
    await expect(size.spawn(tooBig)).rejects.toBeInstanceOf(InvalidError);
    await expect(size.map([new Uint8Array(1), tooBig]).toArray()).rejects.toThrow(/^input 1 of size\.map\(\): the arguments are/);
    await expect(size.spawnMap([tooBig])).rejects.toThrow(/^input 0 of size\.spawnMap\(\)/);
    for (const bytes of inputBytesPerRequest()) expect(bytes).toBeLessThan(2_000_000); // the large argument never went out
  });
});

describe("gather", () => {
  it("reads thousands of results a thousand calls to a request, in call order", async () => {
    const double = await client.functions.fromName<[number], number>("batching", "double");
    const calls = await double.spawnMap(Array.from({ length: 2_000 }, (_, i) => i));
    const before = fake.requestsTo("POST", /^\/v1\/calls\/outputs$/).length;
    // The same call twice gets its result in both places.
    expect(await FunctionCall.gather(...calls, calls[7])).toEqual([...Array.from({ length: 2_000 }, (_, i) => i * 2), 14]);
    const reads = fake.requestsTo("POST", /^\/v1\/calls\/outputs$/).slice(before);
    expect(reads.length).toBeGreaterThanOrEqual(2);
    expect(reads.length).toBeLessThanOrEqual(10);
    for (const r of reads) expect((r.body as { callIds: string[] }).callIds.length).toBeLessThanOrEqual(1_000);
    expect(fake.requestsTo("GET", /^\/v1\/calls\/[^/]+\/outputs$/)).toHaveLength(0);
  });

  it("throws NotFoundError naming a call that does not exist", async () => {
    const double = await client.functions.fromName<[number], number>("batching", "double");
    const [real] = await double.spawnMap([1]);
    await expect(FunctionCall.gather(real, FunctionCall.fromId(client, "fc-nope"))).rejects.toThrow(/call fc-nope not found/);
  });
});

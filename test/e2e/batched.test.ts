// Dynamic batching (issue 16, part 2), end to end: the real SDK and CLI
// against the real local platform and runner processes. No timing
// assertions: each result carries the size of the batch it ran in.
import { describe, it, expect, beforeAll } from "vitest";
import type { FunctionHandle } from "../../sdk/src/index";
import { client, deploy, squall } from "./helpers";

type Embedded = { text: string; length: number; batchSize: number };

describe("dynamic batching", () => {
  let embed: FunctionHandle<[string], Embedded>;
  let scale: FunctionHandle<[number, number], number>;
  let short: FunctionHandle<[number], number>;
  beforeAll(async () => {
    await deploy("test/e2e/apps/batched.ts");
    embed = await client().functions.fromName("batched", "embed");
    scale = await client().functions.fromName("batched", "scale");
    short = await client().functions.fromName("batched", "short");
  });

  it("runs 20 concurrent remote() calls in batches of at most maxBatchSize, each caller getting its own element", async () => {
    const texts = Array.from({ length: 20 }, (_, i) => "x".repeat(i + 1));
    const results = await Promise.all(texts.map((t) => embed.remote(t)));
    expect(results.map(({ text, length }) => ({ text, length }))).toEqual(texts.map((text) => ({ text, length: text.length })));
    for (const r of results) expect(r.batchSize).toBeLessThanOrEqual(8);
  });

  it("map() of 100 items returns results in order, run in batches of up to 8", async () => {
    const texts = Array.from({ length: 100 }, (_, i) => `t${i}`);
    const results: Embedded[] = [];
    for await (const r of embed.map(texts)) results.push(r);
    expect(results.map((r) => r.text)).toEqual(texts);
    const sizes = results.map((r) => r.batchSize);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(8);
    // The pool sends a backlog of 100 to a container 8 at a time: they run together, not one by one.
    expect(Math.max(...sizes)).toBeGreaterThan(1);
  });

  it("passes a list per parameter: starmap and spawn with two arguments", async () => {
    const results: number[] = [];
    for await (const r of scale.starmap(Array.from({ length: 40 }, (_, i): [number, number] => [i, 3]))) results.push(r);
    expect(results).toEqual(Array.from({ length: 40 }, (_, i) => i * 3));
    const call = await scale.spawn(7, 6);
    expect(await call.get()).toBe(42);
  });

  it("fails every input of a batch whose result has the wrong length, with a clear error", async () => {
    const outcomes = await Promise.allSettled([1, 2, 3].map((x) => short.remote(x)));
    for (const o of outcomes) {
      expect(o.status).toBe("rejected");
      const err = (o as PromiseRejectedResult).reason as Error;
      expect(err.name).toBe("BatchLengthError");
      expect(err.message).toMatch(
        /^short is batched: called with a batch of (\d+) inputs, it must return an array of \1 results \(one per input, in order\), but returned an array of length \d+$/,
      );
    }
  });

  it("batches a class method's inputs per instance", async () => {
    // Looked up by name, a batched class is described as its callers see it: one item in, one result out.
    const Tokenizer = await client().cls.fromName<{ prefix: string }, { tokenize(text: string): Promise<{ token: string; batchSize: number }> }>(
      "batched",
      "Tokenizer",
    );
    const a = Tokenizer.instance({ prefix: "a:" });
    const b = Tokenizer.instance({ prefix: "b:" });
    const [fromA, fromB] = await Promise.all([Promise.all(["x", "y", "z"].map((t) => a.tokenize.remote(t))), b.tokenize.remote("w")]);
    expect(fromA.map((r) => r.token)).toEqual(["a:x", "a:y", "a:z"]);
    for (const r of fromA) expect(r.batchSize).toBeLessThanOrEqual(4);
    expect(fromB).toEqual({ token: "b:w", batchSize: 1 });
  });

  it("refuses a batched option out of range at deploy, naming it", async () => {
    const r = await squall(["deploy", "test/e2e/apps/bad-batched.ts"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('option "batched.maxBatchSize" must be between 1 and 1000, got 2000');
  });
});

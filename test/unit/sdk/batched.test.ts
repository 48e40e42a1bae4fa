// Dynamic batching in the SDK, before anything is sent: option validation,
// the input slots a batched function gives the pool, the handle types (single
// items in, single results out) and local() as a batch of one.
import { afterEach, describe, it, expect } from "vitest";
import { App, InvalidError } from "../../../sdk/src/index";
import { clearRegistry, registeredApps } from "../../../sdk/src/registry";
import { OptionsError, concurrentBatches, resolveOptions } from "../../../sdk/src/wire/options";

afterEach(() => clearRegistry());

describe("batched options", () => {
  it("gives the pool maxBatchSize input slots per batch, times concurrent.maxInputs", () => {
    const plain = resolveOptions("embed", { batched: { maxBatchSize: 8, waitMs: 100 } });
    expect(plain).toMatchObject({ batched: { maxBatchSize: 8, waitMs: 100 }, maxInputs: 8, targetInputs: 8 });
    expect(concurrentBatches(plain)).toBe(1);
    const concurrent = resolveOptions("embed", { batched: { maxBatchSize: 8, waitMs: 0 }, concurrent: { maxInputs: 3, targetInputs: 2 } });
    expect(concurrent).toMatchObject({ maxInputs: 24, targetInputs: 16 });
    expect(concurrentBatches(concurrent)).toBe(3);
    expect(resolveOptions("f", {}).batched).toBeNull();
  });

  it.each([
    [{ maxBatchSize: 0, waitMs: 10 }, 'function "embed": option "batched.maxBatchSize" must be between 1 and 1000, got 0'],
    [{ maxBatchSize: 1001, waitMs: 10 }, 'function "embed": option "batched.maxBatchSize" must be between 1 and 1000, got 1001'],
    [{ maxBatchSize: 2.5, waitMs: 10 }, 'function "embed": option "batched.maxBatchSize" must be a whole number, got 2.5'],
    [{ waitMs: 10 }, 'function "embed": option "batched.maxBatchSize" must be a whole number, got undefined'],
    [{ maxBatchSize: 8, waitMs: -1 }, 'function "embed": option "batched.waitMs" must be between 0 and 600000, got -1'],
    [{ maxBatchSize: 8, waitMs: 600_001 }, 'function "embed": option "batched.waitMs" must be between 0 and 600000, got 600001'],
    [{ maxBatchSize: 8, waitMs: 10, maxBatch: 3 }, 'function "embed": unknown option "batched.maxBatch"'],
    [8, 'function "embed": option "batched" must be an object'],
  ])("refuses batched %j by name", (batched, message) => {
    expect(() => resolveOptions("embed", { batched })).toThrow(new OptionsError(message));
  });

  it("refuses batched on a generator, at deploy and at definition", () => {
    expect(() => resolveOptions("tokens", { batched: { maxBatchSize: 2, waitMs: 0 }, generator: true })).toThrow(
      new OptionsError('function "tokens": option "batched" cannot be used with a generator function (async function*)'),
    );
    const app = new App("batched-gen");
    expect(() =>
      // @ts-expect-error a batched function takes lists and returns an array, not a stream
      app.function({ batched: { maxBatchSize: 2, waitMs: 0 } }, async function* tokens(ns: number[]) {
        yield ns;
      }),
    ).toThrow(new InvalidError('tokens is an async function*: option "batched" cannot be used with a generator function'));
  });
});

describe("batched functions", () => {
  it("records batched in the deployed options", () => {
    const app = new App("batched-define");
    app.function({ batched: { maxBatchSize: 4, waitMs: 50 } }, async function embed(texts: string[]) {
      return texts.map((t) => t.length);
    });
    expect(registeredApps()[0].functions.get("embed")?.options).toEqual({ batched: { maxBatchSize: 4, waitMs: 50 } });
  });

  it("takes single items from callers and gives single results (types), and local() runs a batch of one", async () => {
    const app = new App("batched-types");
    const embed = app.function({ batched: { maxBatchSize: 4, waitMs: 50 } }, async function embed(texts: string[]): Promise<number[][]> {
      return texts.map((t) => [t.length, texts.length]);
    });
    const pair = app.function({ batched: { maxBatchSize: 4, waitMs: 50 } }, async function pair(as: number[], bs: string[]) {
      return as.map((a, i) => `${a}${bs[i]}`);
    });
    const one: number[] = await embed.local("abc");
    expect(one).toEqual([3, 1]);
    const joined: string = await pair.local(1, "x");
    expect(joined).toBe("1x");
    const typeOnly = async (): Promise<void> => {
      void embed.remote("a");
      void embed.map(["a", "b"]);
      void embed.spawn("a");
      void pair.starmap([[1, "a"]]);
      // @ts-expect-error callers pass single items: the platform makes the list
      void embed.remote(["a", "b"]);
      // @ts-expect-error map items are single items too
      void embed.map([["a"]]);
      // @ts-expect-error the result is one element of the returned array
      const wrong: number[][] = await embed.remote("a");
      void wrong;
    };
    void typeOnly;
  });

  it("runs batched class methods locally as a batch of one, typed per item", async () => {
    const app = new App("batched-cls");
    const Model = app.cls(
      { batched: { maxBatchSize: 4, waitMs: 50 } },
      class Model {
        constructor(readonly p: { scale: number }) {}
        async scale(xs: number[]): Promise<number[]> {
          return xs.map((x) => x * this.p.scale);
        }
      },
    );
    const m = Model.instance({ scale: 3 });
    const r: number = await m.scale.local(2);
    expect(r).toBe(6);
    // @ts-expect-error callers of a batched method pass single items
    void (() => m.scale.remote([1, 2]));
  });
});

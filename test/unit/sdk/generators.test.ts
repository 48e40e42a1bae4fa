// Streaming generators in the SDK, before anything is sent: generators are
// told apart at definition, recorded in the deploy manifest, and a call that
// does not fit the function is refused naming what to call instead.
import { afterEach, describe, it, expect } from "vitest";
import { App, InvalidError } from "../../../sdk/src/index";
import { clearRegistry, registeredApps } from "../../../sdk/src/registry";

afterEach(() => clearRegistry());

describe("generator functions", () => {
  it("an async function* is recorded as a generator in its deployed options; a plain function is not", () => {
    const app = new App("gen-define");
    app.function({}, async function* tokens(n: number) {
      for (let i = 0; i < n; i++) yield i;
    });
    app.function({}, async function plain(n: number) {
      return n;
    });
    const functions = registeredApps()[0].functions;
    expect(functions.get("tokens")?.options).toEqual({ generator: true });
    expect(functions.get("plain")?.options).toEqual({});
  });

  it("refuses a synchronous function* and a class with a generator method at definition", () => {
    const app = new App("gen-refuse");
    expect(() =>
      app.function({}, function* counter() {
        yield 1;
      }),
    ).toThrow(new InvalidError("counter is a synchronous function*: write it as async function* to stream what it yields"));
    class Model {
      async *stream(): AsyncGenerator<number> {
        yield 1;
      }
    }
    expect(() => app.cls({}, Model)).toThrow(/Model\.stream is a generator method: class methods cannot stream yet/);
  });

  it("refuses remote(), map() and forEach() of a generator, and remoteGen() of a plain function, before anything is sent", async () => {
    const app = new App("gen-calls");
    const tokens = app.function({}, async function* tokens(n: number) {
      yield n;
    });
    const plain = app.function({}, async function plain(n: number) {
      return n;
    });
    await expect(tokens.remote(1)).rejects.toThrow(
      new InvalidError("tokens is a generator function (async function*): tokens.remote() cannot run it; stream what it yields with tokens.remoteGen(...)"),
    );
    expect(() => tokens.map([1])).toThrow(/tokens\.map\(\) cannot run it/);
    await expect(tokens.forEach([1])).rejects.toThrow(/tokens\.forEach\(\) cannot run it/);
    // @ts-expect-error remoteGen is only offered on handles of functions that return an AsyncIterable
    expect(() => plain.remoteGen(1)).toThrow(
      new InvalidError("plain is not a generator function: plain.remoteGen() streams what an async function* yields; call plain.remote(...) instead"),
    );
  });

  it("remoteGen's values have the generator's element type", () => {
    const app = new App("gen-types");
    const tokens = app.function({}, async function* tokens(n: number) {
      yield `token ${n}`;
    });
    const stream: AsyncGenerator<string, void, undefined> = tokens.remoteGen(1);
    expect(typeof stream.next).toBe("function");
    void stream.return();
  });
});

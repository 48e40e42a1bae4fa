import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeApi, FakeOutcome } from "../fixtures/fake-api";
import { App } from "../../../sdk/src/app";
import { Client } from "../../../sdk/src/client";
import { bindApp } from "../../../sdk/src/binding";
import { registeredApps } from "../../../sdk/src/registry";
import { decode } from "../../../sdk/src/wire/serialization";
import { FunctionTimeoutError, InputCancellation, InvalidError, NotFoundError, RemoteError, ResourceExhaustedError } from "../../../sdk/src/errors";
import { sleep } from "../../fixtures/wait";

class ValidationError extends Error {
  override name = "ValidationError";
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.stack = `ValidationError: ${message}\n    at validateOnContainer (remote-app.ts:12:7)`;
  }
}

let fake: FakeApi;
let client: Client;

beforeAll(async () => {
  fake = await new FakeApi().start();
  client = new Client({ url: fake.url, token: fake.token });
  fake.define(
    "my-app",
    {
      square: ({ args }) => (args[0] as number) ** 2,
      slowSquare: async ({ args }) => {
        await sleep(150);
        return (args[0] as number) ** 2;
      },
      validate: ({ args }) => {
        throw new ValidationError(`age must be positive, got ${(args[0] as { age: number }).age}`, "age");
      },
      sleepy: () => {
        throw new FakeOutcome("timeout", "evaluateModel ran longer than its timeoutMs (1000 ms)");
      },
      stopped: () => {
        throw new FakeOutcome("cancelled", "app my-app was stopped");
      },
      broken: () => {
        throw new FakeOutcome("platform_error", "container failed to start");
      },
      echo: ({ args }) => args,
    },
    {
      Model: { methods: ["predict"], impl: ({ args, method, params }) => ({ method, params, x: args[0] }) },
    },
  );
});

afterAll(() => fake.close());

afterEach(() => {
  fake.requests.length = 0;
  fake.maxWaitMs = 25_000;
  fake.rejectInputsWith429 = 0;
});

describe("remote()", () => {
  it("returns the result, with the call sent as CBOR with one closed input", async () => {
    const square = await client.functions.fromName<[number], number>("my-app", "square");
    expect(await square.remote(12)).toBe(144);
    const [call] = fake.requestsTo("POST", /\/v1\/functions\/fn-my-app-square\/calls$/);
    const body = call.body as { kind: string; closed: boolean; waitMs: number; inputs: Array<{ idx: number; args: Uint8Array }> };
    expect(body).toMatchObject({ kind: "remote", closed: true, waitMs: 25_000 });
    expect(decode(body.inputs[0].args)).toEqual([12]);
  });

  it("long-polls outputs when the result does not come within the call's wait", async () => {
    fake.maxWaitMs = 20;
    const slow = await client.functions.fromName<[number], number>("my-app", "slowSquare");
    expect(await slow.remote(7)).toBe(49);
    expect(fake.requestsTo("GET", /\/outputs$/).length).toBeGreaterThan(0);
  });

  it("round-trips rich values (Map, Set, Date, BigInt, bytes, undefined)", async () => {
    const echo = await client.functions.fromName("my-app", "echo");
    const value = { m: new Map([["a", 1]]), s: new Set([1, 2]), d: new Date(5), b: 10n ** 20n, u: new Uint8Array([1, 2]), n: undefined };
    expect(await echo.remote(value)).toEqual([value]);
  });

  it("re-throws a remote error with its name, message, properties and remote stack", async () => {
    const validate = await client.functions.fromName("my-app", "validate");
    const err = (await validate.remote({ age: -1 }).catch((e: unknown) => e)) as Error & { field?: string };
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("ValidationError");
    expect(err.message).toBe("age must be positive, got -1");
    expect(err.field).toBe("age");
    expect(err.stack).toContain("validateOnContainer (remote-app.ts:12:7)");
  });

  it("maps timeout, cancelled and platform_error outputs to FunctionTimeoutError, InputCancellation and RemoteError", async () => {
    await expect((await client.functions.fromName("my-app", "sleepy")).remote()).rejects.toThrow(FunctionTimeoutError);
    await expect((await client.functions.fromName("my-app", "stopped")).remote()).rejects.toThrow(InputCancellation);
    const platform = await (await client.functions.fromName("my-app", "broken")).remote().catch((e: unknown) => e);
    expect(platform).toBeInstanceOf(RemoteError);
    expect((platform as Error).message).toBe("container failed to start");
  });

  it("raises ResourceExhaustedError on 429, carrying the retry-after", async () => {
    const square = await client.functions.fromName("my-app", "square");
    fake.rejectInputsWith429 = 1;
    fake.retryAfterMs = 1_500;
    const err = await square.remote(2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceExhaustedError);
    expect((err as ResourceExhaustedError).retryAfterMs).toBe(1_500);
    fake.retryAfterMs = 50;
  });

  it("refuses an argument that cannot be serialized before sending anything", async () => {
    const app = new App("unsendable");
    const evaluateModel = app.function({}, async function evaluateModel(x: number, opts: Array<{ cb: () => void }>) {
      return [x, opts];
    });
    const err = await evaluateModel.remote(1, [{ cb: () => undefined }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidError);
    expect((err as Error).message).toBe("argument 2 of evaluateModel.remote(): [0].cb (a function) cannot be serialized");
    expect(fake.requests).toHaveLength(0);
  });
});

describe("lookup", () => {
  it("fromName raises NotFoundError for a missing function", async () => {
    await expect(client.functions.fromName("my-app", "nope")).rejects.toThrow(NotFoundError);
  });

  it("fromName refuses a class looked up as a function, naming the right lookup", async () => {
    await expect(client.functions.fromName("my-app", "Model")).rejects.toThrow(/client\.cls\.fromName/);
  });
});

describe("handles of app.function", () => {
  it("resolve lazily through the default client, and call the bound deployment once bound", async () => {
    const saved = { url: process.env.SQUALL_URL, token: process.env.SQUALL_TOKEN };
    process.env.SQUALL_URL = fake.url;
    process.env.SQUALL_TOKEN = fake.token;
    try {
      const app = new App("my-app");
      const square = app.function({ maxContainers: 2 }, async function square(x: number) {
        return x * x;
      });
      expect(fake.requests).toHaveLength(0); // defining makes no request
      expect(await square.local(3)).toBe(9);
      expect(await square.remote(5)).toBe(25);
      expect(fake.requestsTo("GET", /\/v1\/apps\/my-app\/functions\/square$/)).toHaveLength(1);

      fake.define("my-app-run-abc123", { square: ({ args }) => (args[0] as number) * 1000 });
      const registered = registeredApps()
        .filter((a) => a.name === "my-app")
        .at(-1)!;
      bindApp(registered, { appName: "my-app-run-abc123", client: { url: fake.url, token: fake.token } });
      expect(await square.remote(5)).toBe(5000);
      expect(fake.requestsTo("POST", /fn-my-app-run-abc123-square\/calls$/)).toHaveLength(1);
    } finally {
      process.env.SQUALL_URL = saved.url;
      process.env.SQUALL_TOKEN = saved.token;
      if (saved.url === undefined) delete process.env.SQUALL_URL;
      if (saved.token === undefined) delete process.env.SQUALL_TOKEN;
    }
  });

  it("app.function refuses an unnamed function", () => {
    const app = new App("unnamed");
    expect(() =>
      app.function(
        {},
        (
          () => async () =>
            1
        )(),
      ),
    ).toThrow(InvalidError);
  });
});

describe("classes", () => {
  it("instance methods call with CBOR params and the method; pool routes carry ?params", async () => {
    const Model = await client.cls.fromName<{ modelVersion: string }>("my-app", "Model");
    const m = Model.instance({ modelVersion: "3.5" });
    expect(await m.predict.remote(3)).toEqual({ method: "predict", params: { modelVersion: "3.5" }, x: 3 });

    await m.updateAutoscaler({ bufferContainers: 2 });
    const [update] = fake.autoscalerUpdates.slice(-1);
    expect(update.body).toEqual({ bufferContainers: 2 });
    expect(decode(Buffer.from(update.params!, "base64url"))).toEqual({ modelVersion: "3.5" });
    fake.dropStats = 2; // reads are retried when a connection is reset
    const stats = await m.getCurrentStats();
    expect(fake.dropStats).toBe(0);
    expect(stats.containers.total).toBe(3);
    expect(
      fake
        .requestsTo("GET", /\/stats$/)
        .at(-1)!
        .query.get("params"),
    ).toBe(update.params);
  });

  it("names the same pool for equal params whatever their key order", async () => {
    const Model = await client.cls.fromName<{ a: number; b: { c: number; d: number } }>("my-app", "Model");
    await Model.instance({ a: 1, b: { c: 2, d: 3 } }).getCurrentStats();
    await Model.instance({ b: { d: 3, c: 2 }, a: 1 }).getCurrentStats();
    const [first, second] = fake
      .requestsTo("GET", /\/stats$/)
      .slice(-2)
      .map((r) => r.query.get("params"));
    expect(second).toBe(first);
  });

  it("app.cls exposes public methods except constructor and enter, and local() enters once", async () => {
    const app = new App("cls-app");
    let entered = 0;
    const Model = app.cls(
      {},
      class Model {
        constructor(readonly params: { modelVersion: string }) {}
        async enter() {
          entered++;
        }
        async predict(x: number) {
          return `${this.params.modelVersion}:${x}`;
        }
      },
    );
    const registered = registeredApps()
      .filter((a) => a.name === "cls-app")
      .at(-1)!;
    expect(registered.functions.get("Model")).toMatchObject({ kind: "class", methods: ["predict"] });
    const m = Model.instance({ modelVersion: "3.5" });
    expect(await m.predict.local(1)).toBe("3.5:1");
    expect(await m.predict.local(2)).toBe("3.5:2");
    expect(entered).toBe(1);
  });
});

describe("function pool controls", () => {
  it("updateAutoscaler sends the partial settings as JSON; a bad setting fails before any request", async () => {
    const square = await client.functions.fromName("my-app", "square");
    fake.requests.length = 0;
    await square.updateAutoscaler({ minContainers: 4 });
    expect(fake.autoscalerUpdates.at(-1)).toEqual({ functionId: "fn-my-app-square", params: null, body: { minContainers: 4 } });
    await expect(square.updateAutoscaler({ minContainers: -1 })).rejects.toThrow(/"minContainers"/);
    await expect(square.updateAutoscaler({ maxContainrs: 3 } as never)).rejects.toThrow(InvalidError);
    expect(fake.requests).toHaveLength(1);
  });
});

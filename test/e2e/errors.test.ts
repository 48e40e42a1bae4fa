// Issue 13, point 1: remote errors keep their class, end to end (the real
// SDK and CLI, the real platform, real runner processes). Built-in classes
// always; the user's own classes in `squall run` and with `new Client({ errors })`.
import { describe, it, expect, beforeAll } from "vitest";
import { inject } from "vitest";
import { Client, FunctionCall, UserCodeException, failedInputIndex, type FunctionHandle } from "../../sdk/src/index";
import { QuotaError } from "./apps/quota-error";
import { deploy, squall } from "./helpers";

const client = (options: { errors?: Array<typeof QuotaError> } = {}): Client =>
  new Client({ url: inject("squallUrl"), token: inject("squallToken"), ...options });
const settle = <T>(p: Promise<T>): Promise<T | Error> =>
  p.then(
    (v) => v,
    (e: Error) => e,
  );

/** A TypeError whose cause is a RangeError whose cause is a URIError, each with its message and remote stack. */
function expectTypeErrorChain(err: unknown): void {
  expect(err).toBeInstanceOf(TypeError);
  const e = err as TypeError & { code?: string };
  expect(e.message).toBe("not a number");
  expect(e.code).toBe("E_NAN");
  expect(e.stack).toMatch(/errors\.ts/); // the remote stack, pointing into the app's source
  expect(e.cause).toBeInstanceOf(RangeError);
  expect((e.cause as Error).message).toBe("out of range");
  expect((e.cause as Error).cause).toBeInstanceOf(URIError);
}

function expectQuotaError(err: unknown, used: number): void {
  expect(err).toBeInstanceOf(QuotaError);
  const e = err as QuotaError;
  expect(e.name).toBe("QuotaError");
  expect(e.message).toBe(`quota exceeded: used ${used} of 10`);
  expect(e.used).toBe(used);
  expect(e.overBy).toBe(used - 10);
  expect(e.cause).toBeInstanceOf(RangeError);
  expect(e.stack).toMatch(/errors\.ts/);
}

describe("built-in error classes come back as themselves", () => {
  let throwBuiltin: FunctionHandle<[string], number>;
  beforeAll(async () => {
    await deploy("test/e2e/apps/errors.ts");
    throwBuiltin = await client().functions.fromName<[string], number>("errors", "throwBuiltin");
  });

  it("after remote(), with the cause chain rebuilt", async () => {
    expectTypeErrorChain(await settle(throwBuiltin.remote("type")));
    expect(await settle(throwBuiltin.remote("eval"))).toBeInstanceOf(EvalError);
    expect(await settle(throwBuiltin.remote("reference"))).toBeInstanceOf(ReferenceError);
  });

  it("AggregateError with its errors, and DOMException with its name", async () => {
    const aggregate = (await settle(throwBuiltin.remote("aggregate"))) as AggregateError;
    expect(aggregate).toBeInstanceOf(AggregateError);
    expect(aggregate.errors[0]).toBeInstanceOf(TypeError);
    expect(aggregate.errors[1]).toBeInstanceOf(SyntaxError);
    expect((aggregate.errors[2] as Error).name).toBe("QuotaError"); // an unknown class to this client
    const abort = (await settle(throwBuiltin.remote("abort"))) as DOMException;
    expect(abort).toBeInstanceOf(DOMException);
    expect(abort.name).toBe("AbortError");
    expect(abort.code).toBe(DOMException.ABORT_ERR);
  });

  it("in a map: thrown itself without returnExceptions, returned with it", async () => {
    const thrown = await settle(throwBuiltin.map(["ok", "type", "ok"]).toArray());
    expectTypeErrorChain(thrown);
    expect(failedInputIndex(thrown)).toBe(1);

    const bare = await throwBuiltin.map(["ok", "type"], { returnExceptions: true, wrapReturnedExceptions: false }).toArray();
    expect(bare[0]).toBe(2);
    expectTypeErrorChain(bare[1]);
    expect(failedInputIndex(bare[1])).toBe(1);

    const wrapped = await throwBuiltin.map(["type"], { returnExceptions: true }).toArray();
    expect(wrapped[0]).toBeInstanceOf(UserCodeException);
    expectTypeErrorChain((wrapped[0] as Error).cause);
  });

  it("from FunctionCall.get() and FunctionCall.gather()", async () => {
    const call = await throwBuiltin.spawn("type");
    expectTypeErrorChain(await settle(call.get()));
    expectTypeErrorChain(await settle(FunctionCall.gather(call)));
    expectTypeErrorChain(await settle(FunctionCall.fromId(client(), call.id).get()));
  });
});

describe("a user's own error class", () => {
  beforeAll(() => deploy("test/e2e/apps/errors.ts"));

  it("comes back as an instance of it for a client that lists it: remote(), map, get()", async () => {
    const useQuota = await client({ errors: [QuotaError] }).functions.fromName<[number], number>("errors", "useQuota");
    expectQuotaError(await settle(useQuota.remote(12)), 12);
    const thrown = await settle(useQuota.map([1, 13]).toArray());
    expectQuotaError(thrown, 13);
    expect(failedInputIndex(thrown)).toBe(1);
    const [ok, returned] = await useQuota.map([5, 14], { returnExceptions: true, wrapReturnedExceptions: false }).toArray();
    expect(ok).toBe(5);
    expectQuotaError(returned, 14);
    expectQuotaError(await settle((await useQuota.spawn(15)).get()), 15);
  });

  it("stays an Error with its name, fields and stack for a client that does not list it", async () => {
    const useQuota = await client().functions.fromName<[number], number>("errors", "useQuota");
    const err = (await settle(useQuota.remote(16))) as Error & { used?: number };
    expect(err).not.toBeInstanceOf(QuotaError);
    expect(err.constructor).toBe(Error);
    expect(err.name).toBe("QuotaError");
    expect(err.used).toBe(16);
    expect(err.stack).toMatch(/errors\.ts/);
  });

  it("comes back as an instance of it in code running in a container (the same bundle)", async () => {
    const relay = await client().functions.fromName<[number], string>("errors", "relay");
    expect(await relay.remote(13)).toBe("true 3");
  });

  it("comes back as an instance of it in squall run, where the entrypoint shares the app's bundle", async () => {
    const r = await squall(["run", "test/e2e/apps/errors.ts"]);
    expect(r.stderr).not.toMatch(/error: /);
    expect(r.code).toBe(0);
    // instanceof QuotaError, its field, its getter, its cause's class
    expect(r.stdout).toContain("remote: true 12 2 true");
    expect(r.stdout).toContain("map: true 13 3 true input 2");
    expect(r.stdout).toContain("returned: true 14 4 true");
    expect(r.stdout).toContain("get: true 15 5 true");
    expect(r.stdout).toContain("gather: true 15 5 true");
  });
});

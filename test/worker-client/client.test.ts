// The SDK's Worker entry in workerd against the real local platform (issue
// 16): a Client over fetch with a URL, and one through a service binding.
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { Client, FunctionCall, InvalidError, NotFoundError, type ServiceBinding } from "squall/client";
import worker from "../../examples/worker-client/src/index";

const token = inject("squallToken");
const forms: [string, () => Client][] = [
  ["url", () => new Client({ url: inject("squallUrl"), token })],
  ["binding", () => new Client({ binding: env.SQUALL, token })],
];

describe.each(forms)("a Client in a Worker, by %s", (_form, makeClient) => {
  it("calls a deployed function with remote()", async () => {
    const greet = await makeClient().functions.fromName<[string], string>("worker-client", "greet");
    expect(await greet.remote("Ada")).toBe("Hello, Ada!");
  });

  it("maps over inputs, results in input order", async () => {
    const square = await makeClient().functions.fromName<[number], number>("worker-client", "square");
    const results: number[] = [];
    for await (const r of square.map([1, 2, 3, 4, 5])) results.push(r);
    expect(results).toEqual([1, 4, 9, 16, 25]);
  });

  it("spawns a call and gets its result, also by id from another client", async () => {
    const square = await makeClient().functions.fromName<[number], number>("worker-client", "square");
    const call = await square.spawn(7);
    expect(await call.get()).toBe(49);
    expect(await FunctionCall.fromId<number>(makeClient(), call.id).get()).toBe(49);
  });

  it("streams a generator's values with remoteGen()", async () => {
    const countdown = await makeClient().functions.fromName<[number], AsyncGenerator<number>>("worker-client", "countdown");
    const values: number[] = [];
    for await (const n of countdown.remoteGen(3)) values.push(n);
    expect(values).toEqual([3, 2, 1]);
  });

  it("raises the function's own error with its class and message", async () => {
    const square = await makeClient().functions.fromName<[number], number>("worker-client", "square");
    const err = await square.remote(-2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toBe("-2 is negative");
  });

  it("names a function that is not deployed", async () => {
    await expect(makeClient().functions.fromName("worker-client", "nope")).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("the example Worker", () => {
  it("answers each request from greet(), through its SQUALL binding", async () => {
    const res = await worker.fetch(new Request("https://example.com/?name=Grace"), { SQUALL: env.SQUALL, SQUALL_TOKEN: token });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("Hello, Grace!");
  });

  it("falls back to SQUALL_URL without a binding", async () => {
    const res = await worker.fetch(new Request("https://example.com/"), { SQUALL_URL: inject("squallUrl"), SQUALL_TOKEN: token });
    expect(await res.text()).toBe("Hello, world!");
  });

  it("answers 502 naming the error when the token is wrong", async () => {
    const res = await worker.fetch(new Request("https://example.com/"), { SQUALL: env.SQUALL, SQUALL_TOKEN: "sq_wrong" });
    expect(res.status).toBe(502);
    expect(await res.text()).toMatch(/^AuthError: /);
  });
});

describe("bad Client options in a Worker", () => {
  it("refuses url and binding together", () => {
    expect(() => new Client({ url: inject("squallUrl"), binding: env.SQUALL, token })).toThrow(InvalidError);
    expect(() => new Client({ url: inject("squallUrl"), binding: env.SQUALL, token })).toThrow(/either url or binding, not both/);
  });

  it("refuses neither, reading no config file", () => {
    expect(() => new Client({ token })).toThrow(InvalidError);
    expect(() => new Client()).toThrow(/give url and token, or binding and token/);
  });

  it("refuses a binding without a fetch method, naming what it got", () => {
    expect(() => new Client({ binding: { SQUALL: 1 } as unknown as ServiceBinding, token })).toThrow(
      /binding must be a service binding.*got an object with keys \[SQUALL\]/,
    );
  });

  it("refuses a binding or a url without a token", () => {
    expect(() => new Client({ binding: env.SQUALL })).toThrow(/a binding needs a token/);
    expect(() => new Client({ url: inject("squallUrl") })).toThrow(InvalidError);
  });

  it("refuses a url that is not one", () => {
    expect(() => new Client({ url: "squall.example.com", token })).toThrow(/url must be an absolute URL.*"squall.example.com"/);
  });
});

import { getEventListeners } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeApi } from "../fixtures/fake-api";
import { Http, requestSignal } from "../../../sdk/src/http";
import { ROUTES } from "../../../sdk/src/wire/routes";

let fake: FakeApi;
beforeAll(async () => {
  fake = await new FakeApi().start();
});
afterAll(async () => {
  await fake.close();
});

describe("a signal shared by many requests", () => {
  it("holds no listener once its requests are done", async () => {
    const http = new Http(fake.url, fake.token);
    const shared = new AbortController();
    for (let i = 0; i < 50; i++) await http.send(ROUTES.listApps, { signal: shared.signal });
    expect(getEventListeners(shared.signal, "abort")).toHaveLength(0);
  });

  it("still aborts the request in flight", async () => {
    const parent = new AbortController();
    const { signal, release } = requestSignal(parent.signal);
    parent.abort(new Error("stop"));
    expect(signal?.aborted).toBe(true);
    expect((signal?.reason as Error).message).toBe("stop");
    release();
    const already = requestSignal(parent.signal);
    expect(already.signal?.aborted).toBe(true);
  });
});

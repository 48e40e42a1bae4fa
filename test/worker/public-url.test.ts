// A pool keeps its config across a platform restart, but the platform may
// come back at another URL (`npm run dev -- --containers` after `npm run
// dev`: containers reach it through the Docker bridge): containers started
// afterwards must be given the new URL, not the one the config was made with.
import { SELF } from "cloudflare:test";
import { describe, it, expect } from "vitest";
import { decode, encode } from "../../sdk/src/wire/serialization";
import { fakeCompute } from "./fake-compute";
import { deploy, manifest, newWorkspace } from "./helpers";

async function squareVia(origin: string, token: string, functionId: string): Promise<number> {
  const res = await SELF.fetch(`${origin}/v1/functions/${functionId}/calls`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/cbor" },
    body: encode({ kind: "remote", inputs: [{ idx: 0, args: encode([7]) }], closed: true, waitMs: 10_000 }),
  });
  expect(res.status).toBe(200);
  const body = decode<{ outputs: Array<{ status: string; value: Uint8Array }> }>(new Uint8Array(await res.arrayBuffer()));
  expect(body.outputs[0].status).toBe("success");
  return decode<number>(body.outputs[0].value);
}

describe("the platform's URL", () => {
  it("reaches containers started after it changed, without a redeploy", async () => {
    const app = "moved-url";
    fakeCompute.script(app, [], "ok");
    const token = await newWorkspace(app);
    const res = await deploy(token, manifest(app, [{ name: "f", options: { maxContainers: 1, scaledownWindowMs: 2_000 } }]));
    const functionId = ((await res.json()) as { functions: Array<{ functionId: string }> }).functions[0].functionId;

    expect(await squareVia("http://squall.test", token, functionId)).toBe(49);
    // The pool lets its container go, and the platform is now reached at another address.
    await new Promise((r) => setTimeout(r, 3_500));
    expect(await squareVia("http://172.17.0.1:8787", token, functionId)).toBe(49);

    expect(fakeCompute.urls(app)).toEqual(["http://squall.test", "http://172.17.0.1:8787"]);
  });
});

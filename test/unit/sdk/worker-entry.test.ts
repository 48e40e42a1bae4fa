// squall/client runs in a Worker without nodejs_compat (issue 16): it bundles
// for a neutral platform (where any node:* import fails to resolve) and refers
// to no Node global; a Client given a binding sends every request through it.
import { resolve } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { Client, InvalidError, NotFoundError, type ServiceBinding } from "../../../sdk/src/client-entry";

const ROOT = resolve(import.meta.dirname, "../../..");
// esbuild's define replaces only free references to a global, never a property or a string.
const NODE_GLOBALS = ["process", "Buffer", "setImmediate", "global", "require", "__dirname"];

async function bundleForWorkers(entry: string, external: string[] = []): Promise<string> {
  const result = await build({
    entryPoints: [resolve(ROOT, entry)],
    bundle: true,
    external,
    write: false,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "browser"],
    alias: { "squall/client": resolve(ROOT, "sdk/src/client-entry.ts") },
    define: Object.fromEntries(NODE_GLOBALS.map((name) => [name, `__node_global_${name}__`])),
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

describe("the Worker entry", () => {
  it.each(["sdk/src/client-entry.ts", "examples/worker-client/src/index.ts"])("%s bundles with no Node module and no Node global", async (entry) => {
    expect(await bundleForWorkers(entry)).toContain("squall.binding");
    // cbor-x reaches for Buffer only to join an indefinite-length byte string, which no Squall encoder writes.
    const ownCode = await bundleForWorkers(entry, ["cbor-x"]);
    expect(ownCode.match(/__node_global_\w+__/g) ?? []).toEqual([]);
  });

  it("sends a binding's requests through its fetch, with the token, to the platform's paths", async () => {
    const seen: { url: string; authorization: string | null }[] = [];
    const binding: ServiceBinding = {
      async fetch(input, init) {
        const request = new Request(input, init);
        seen.push({ url: request.url, authorization: request.headers.get("authorization") });
        return Response.json({ error: { code: "NOT_FOUND", message: "no function greet in app demo" } }, { status: 404 });
      },
    };
    const client = new Client({ binding, token: "sq_test" });
    await expect(client.functions.fromName("demo", "greet")).rejects.toThrow(NotFoundError);
    expect(seen).toEqual([{ url: "https://squall.binding/v1/apps/demo/functions/greet", authorization: "Bearer sq_test" }]);
  });

  it("reads no environment or config file: a Client needs url or binding", () => {
    process.env.SQUALL_URL = "http://from-env";
    process.env.SQUALL_TOKEN = "sq_env";
    try {
      expect(() => new Client()).toThrow(InvalidError);
      expect(() => new Client()).toThrow(/give url and token, or binding and token/);
    } finally {
      delete process.env.SQUALL_URL;
      delete process.env.SQUALL_TOKEN;
    }
  });
});

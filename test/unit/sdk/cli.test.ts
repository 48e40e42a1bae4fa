import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeApi } from "../fixtures/fake-api";
import { runCli } from "../../../sdk/src/cli/cli";
import type { DeployResponse } from "../../../sdk/src/wire/api";

const APP_FILE = fileURLToPath(new URL("../fixtures/sdk-cli-app.ts", import.meta.url));
const BAD_APP_FILE = fileURLToPath(new URL("../fixtures/sdk-cli-bad-app.ts", import.meta.url));
const CLIENT_ONLY_FILE = fileURLToPath(new URL("../fixtures/sdk-cli-client-only.ts", import.meta.url));

let fake: FakeApi;

async function squall(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli([...argv, "--url", fake.url, "--token", fake.token], { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

beforeAll(async () => {
  fake = await new FakeApi().start();
  fake.impls.set("square", ({ args }) => (args[0] as number) ** 2);
});

afterAll(() => fake.close());

afterEach(() => {
  fake.requests.length = 0;
  fake.deployments.length = 0;
  delete process.env.SQUALL_FIXTURE_FAIL;
});

describe("squall deploy", () => {
  it("bundles the file, posts the manifest and the bundle, and prints each function", async () => {
    const { code, out, err } = await squall("deploy", APP_FILE);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(fake.deployments).toHaveLength(1);
    const [deployment] = fake.deployments;
    expect(deployment.manifest).toEqual({
      name: "fixture-app",
      functions: [
        { name: "square", kind: "function", options: { maxContainers: 4, schedule: { type: "cron", expression: "0 6 * * *", timezone: "America/New_York" } } },
        { name: "Model", kind: "class", options: { bufferContainers: 1 }, methods: ["predict"] },
      ],
    });
    expect(deployment.ephemeral).toBeUndefined();
    expect(deployment.bundle).toMatch(/async function square\d*\(x\)/);
    expect(deployment.bundle).toContain("squall.registry.v1"); // the SDK itself is inside: self-contained
    expect(fake.requestsTo("POST", /^\/v1\/apps\/fixture-app\/deployments$/)).toHaveLength(1);
    expect(out).toContain("deployed fixture-app version 1");
    expect(out).toMatch(/square\s+function\s+maxContainers 4; schedule cron "0 6 \* \* \*" America\/New_York/);
    expect(out).toMatch(/Model\s+class\s+methods predict; bufferContainers 1/);
  });

  it("--name deploys under another name; --json prints the DeployResponse", async () => {
    const { code, out, err } = await squall("deploy", APP_FILE, "--name", "renamed", "--json");
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(fake.deployments[0].manifest.name).toBe("renamed");
    const res = JSON.parse(out) as DeployResponse;
    expect(res.appName).toBe("renamed");
    expect(res.functions.map((f) => f.name)).toEqual(["square", "Model"]);
  });

  it("refuses invalid options before uploading, with one line naming the option", async () => {
    const { code, err } = await squall("deploy", BAD_APP_FILE);
    expect(code).toBe(1);
    expect(err).toBe('error: function "f": option "maxContainers" must be between 1 and 1000, got -1');
    expect(fake.requests).toHaveLength(0);
  });

  it("reports a missing file and a bundling error as one line", async () => {
    const missing = await squall("deploy", "does-not-exist.ts");
    expect(missing).toMatchObject({ code: 1, err: "error: does-not-exist.ts does not exist" });
    const dir = mkdtempSync(join(tmpdir(), "squall-cli-"));
    writeFileSync(join(dir, "broken.ts"), "export const x = ;\n");
    const broken = await squall("deploy", join(dir, "broken.ts"));
    rmSync(dir, { recursive: true });
    expect(broken.code).toBe(1);
    expect(broken.err).toMatch(/^error: could not bundle .*broken\.ts: .*broken\.ts:1:\d+: Unexpected ";"$/);
    expect(fake.requests).toHaveLength(0);
  });
});

describe("squall run", () => {
  it("deploys an ephemeral copy, runs the entrypoint against it, then deletes it", async () => {
    const { code, err } = await squall("run", APP_FILE);
    expect(code).toBe(0);
    const [deployment] = fake.deployments;
    expect(deployment.ephemeral).toBe(true);
    const ephemeral = deployment.manifest.name;
    expect(ephemeral).toMatch(/^fixture-app-run-[0-9a-f]{6}$/);
    expect(err).toContain(`as ephemeral app ${ephemeral}`);
    expect(fake.requestsTo("POST", new RegExp(`/functions/fn-${ephemeral}-square/calls$`))).toHaveLength(1);
    expect(fake.deletedApps).toContain(ephemeral);
  });

  it("exits 1 and prints the error when the entrypoint throws, and still deletes the app", async () => {
    process.env.SQUALL_FIXTURE_FAIL = "1";
    const { code, err } = await squall("run", APP_FILE);
    expect(code).toBe(1);
    expect(err).toContain("entrypoint failed after square(4) = 16");
    expect(fake.deletedApps).toContain(fake.deployments[0].manifest.name);
  });

  it("runs an app with no functions without deploying it; its new Client() reaches the --url platform", async () => {
    fake.define("deployed-app", { square: ({ args }) => (args[0] as number) ** 2 });
    const saved = { url: process.env.SQUALL_URL, token: process.env.SQUALL_TOKEN };
    const { code, err } = await squall("run", CLIENT_ONLY_FILE);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(fake.deployments).toHaveLength(0);
    expect(fake.requestsTo("POST", /\/functions\/[^/]+\/calls$/)).toHaveLength(1);
    expect({ url: process.env.SQUALL_URL, token: process.env.SQUALL_TOKEN }).toEqual(saved); // the environment is as it was
  });
});

describe("other commands", () => {
  it("app list prints a table; app stop reports what stopped", async () => {
    fake.define("listed-app", { a: () => 1, b: () => 2 });
    const list = await squall("app", "list");
    expect(list.code).toBe(0);
    expect(list.out.split("\n")[0]).toMatch(/^NAME\s+STATE\s+VERSION\s+DEPLOYED\s+FUNCTIONS$/);
    expect(list.out).toMatch(/listed-app\s+deployed\s+1\s+\S+\s+a, b/);
    const stop = await squall("app", "stop", "listed-app");
    expect(stop.out).toBe("stopped listed-app: 2 containers stopped, 4 inputs cancelled");
    expect(fake.requestsTo("POST", /^\/v1\/apps\/listed-app\/stop$/)).toHaveLength(1);
  });

  it("function stats and update-autoscaler", async () => {
    fake.define("tuned", { f: () => 1 });
    const stats = await squall("function", "stats", "tuned", "f", "--json");
    expect(JSON.parse(stats.out)).toEqual(fake.stats);
    expect((await squall("function", "stats", "tuned", "f")).out).not.toContain("held back");
    fake.stats.startsHeldBack = { reason: "capacity", message: "the local container host runs 32 containers, its limit (32)", untilMs: Date.now() + 1_500 };
    const held = await squall("function", "stats", "tuned", "f");
    expect(held.out).toMatch(
      /^starts held back: no room for containers on the platform, next try in [12] s \(the local container host runs 32 containers, its limit \(32\)\)$/m,
    );
    fake.stats.startsHeldBack = null;
    const update = await squall("function", "update-autoscaler", "tuned", "f", "--min-containers", "2", "--max-containers", "10");
    expect(update.code).toBe(0);
    expect(fake.autoscalerUpdates.at(-1)).toEqual({ functionId: "fn-tuned-f", params: null, body: { minContainers: 2, maxContainers: 10 } });
    expect(update.out).toContain("minContainers 2, maxContainers 10");
    const bad = await squall("function", "update-autoscaler", "tuned", "f", "--min-containers", "two");
    expect(bad).toMatchObject({ code: 1, err: 'error: --min-containers must be a whole number, got "two"' });
  });

  it("update-autoscaler takes --scaledown-window-ms auto; stats shows what an auto pool learned", async () => {
    fake.define("rhythmic", { f: () => 1 });
    const update = await squall("function", "update-autoscaler", "rhythmic", "f", "--scaledown-window-ms", "auto");
    expect(update.code).toBe(0);
    expect(fake.autoscalerUpdates.at(-1)?.body).toEqual({ scaledownWindowMs: "auto" });
    expect(update.out).toContain("scaledownWindowMs auto");
    const bad = await squall("function", "update-autoscaler", "rhythmic", "f", "--scaledown-window-ms", "soon");
    expect(bad).toMatchObject({ code: 1, err: 'error: --scaledown-window-ms must be a whole number, got "soon"' });

    const reason = "learned from 12 idle intervals (5th and 99th percentiles 19.3 s, 20.2 s): releases containers when idle, pre-warms one 14.3 s later";
    fake.stats.adaptive = {
      representative: true,
      reason,
      keepAliveMs: 21_200,
      prewarmAfterMs: 14_300,
      prewarmAtMs: Date.UTC(2026, 10, 30, 19, 0, 14, 300),
      samples: 12,
    };
    try {
      const stats = await squall("function", "stats", "rhythmic", "f");
      expect(stats.out).toMatch(/histogram\s+representative \(12 idle intervals\)/);
      expect(stats.out).toMatch(/keep-alive\s+21\.2 s/);
      expect(stats.out).toMatch(/pre-warm after idle\s+14\.3 s/);
      expect(stats.out).toMatch(/next pre-warm\s+2026-11-30T19:00:14\.300Z/);
      expect(stats.out).toContain(reason);
    } finally {
      delete fake.stats.adaptive;
    }
  });

  it("call get prints a spawned call's result; token create prints the token", async () => {
    fake.define("calls", { greet: ({ args }) => `hello ${args[0] as string}` });
    const { Client } = await import("../../../sdk/src/client");
    const client = new Client({ url: fake.url, token: fake.token });
    const call = await (await client.functions.fromName("calls", "greet")).spawn("ada");
    expect(await squall("call", "get", call.id)).toMatchObject({ code: 0, out: "hello ada" });
    expect(await squall("token", "create")).toMatchObject({ code: 0, out: "sq_new_token" });
  });

  it("fails with one line for usage mistakes, unknown apps and missing config", async () => {
    expect(await squall("deploy")).toMatchObject({ code: 1, err: "error: usage: squall deploy FILE (see squall deploy --help)" });
    expect((await squall("nope")).err).toBe('error: unknown command "nope" (see squall --help)');
    expect(await squall("app", "stop", "ghost")).toMatchObject({ code: 1 });
    const saved = { ...process.env };
    process.env.SQUALL_CONFIG_PATH = "/nonexistent/squall.toml";
    delete process.env.SQUALL_URL;
    delete process.env.SQUALL_TOKEN;
    const out: string[] = [];
    const code = await runCli(["app", "list"], { out: (t) => out.push(t), err: (t) => out.push(t) });
    process.env = saved;
    expect(code).toBe(1);
    expect(out).toEqual([expect.stringMatching(/^error: no Squall platform configured: set SQUALL_URL/)]);
  });

  it("--help prints usage and exits 0", async () => {
    const { code, out } = await squall("function", "update-autoscaler", "--help");
    expect(code).toBe(0);
    expect(out).toContain("usage: squall function update-autoscaler APP FN");
    expect(out).toContain("--scaledown-window-ms N");
  });
});

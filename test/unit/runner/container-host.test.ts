// The local container host: its HTTP API, and that runner processes start,
// stop, report how they ended, and never outlive the host.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ContainerHost } from "../../../sdk/src/host/index.js";
import { CONTAINER_FAILED_STATUS, type HostedContainer } from "../../../sdk/src/wire/host.js";
import { defaultLimits, resolveLimits } from "../../../sdk/src/host/limits.js";
import { encode } from "../../../sdk/src/wire/serialization.js";
import { PoolClient, hostRequest, isAlive, serveFixtureBundle, startContainer, startTestHost, waitUntil, type BundleServer } from "../fixtures/harness.js";

const HOST_MAIN = fileURLToPath(new URL("../../../sdk/dist/host/main.js", import.meta.url));

let host: ContainerHost;
let lines: string[];
let bundle: BundleServer;

beforeAll(async () => {
  ({ host, lines } = await startTestHost());
  bundle = await serveFixtureBundle();
});

afterAll(async () => {
  await host?.close();
  await bundle?.close();
});

describe("container host", () => {
  it("starts a runner that listens, and lists and describes it", async () => {
    expect(await hostRequest(host.url, "GET", "/healthz")).toMatchObject({ status: 200, body: { ok: true, limits: host.limits } });
    const c = await startContainer(host.url);
    expect(c.info).toMatchObject({ id: c.id, state: "running", exitCode: null, signal: null });
    expect(isAlive(c.info.pid)).toBe(true);
    const health = await fetch(`http://127.0.0.1:${c.info.port}/healthz`);
    expect(await health.json()).toEqual({ ok: true, containerId: c.id });
    expect(await hostRequest(host.url, "GET", `/containers/${c.id}`)).toMatchObject({ status: 200, body: c.info });
    const list = (await hostRequest(host.url, "GET", "/containers")).body as { containers: HostedContainer[] };
    expect(list.containers).toContainEqual(c.info);
    // The runner's own output comes through, prefixed with the container.
    await waitUntil(
      () => lines.includes(`[container ${c.id.slice(0, 8)}] [squall runner] container ${c.id} listening on 127.0.0.1:${c.info.port}`),
      "the runner's start line",
    );
  });

  it("refuses a second container with a running id, and bad bodies naming the field", async () => {
    const c = await startContainer(host.url);
    const dup = await hostRequest(host.url, "POST", "/containers", { id: c.id, env: {} });
    expect(dup).toMatchObject({ status: 409, body: { error: { code: "CONFLICT" } } });
    const cases: [unknown, RegExp][] = [
      ["not json", /not valid JSON/],
      [{ env: {} }, /^id must be/],
      [{ id: "a/b", env: {} }, /^id must be/],
      [{ id: "ok" }, /^env must be/],
      [{ id: "ok", env: { A: 1 } }, /^env\.A must be a string/],
      [{ id: "ok", env: { "BAD-NAME": "x" } }, /BAD-NAME/],
    ];
    for (const [body, message] of cases) {
      const res = await hostRequest(host.url, "POST", "/containers", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((res.body as { error: { message: string } }).error.message).toMatch(message);
    }
    expect((await hostRequest(host.url, "GET", "/containers/nope")).status).toBe(404);
    expect((await hostRequest(host.url, "DELETE", "/containers/nope")).status).toBe(404);
  });

  it("answers CONTAINER_FAILED_STATUS with the runner's last words when it exits before listening", async () => {
    const res = await hostRequest(host.url, "POST", "/containers", { id: "ct-no-secret", env: { SQUALL_CONTAINER_ID: "ct-no-secret" } });
    expect(res.status).toBe(CONTAINER_FAILED_STATUS);
    expect((res.body as { error: { message: string } }).error.message).toBe(
      "runner exited with code 2 before listening: [squall runner] SQUALL_CONTAINER_SECRET is not set",
    );
    // The record stays, so the pool can ask what happened.
    expect((await hostRequest(host.url, "GET", "/containers/ct-no-secret")).body).toMatchObject({ state: "exited", exitCode: 2 });
  });

  it("reports exit code 1 when user code calls process.exit(1), after the pool's socket closes", async () => {
    const c = await startContainer(host.url);
    const pool = await PoolClient.connect(c.info.port, c.secret);
    expect((await pool.init(c, bundle.url, { kind: "function", name: "exitNow" })).t).toBe("ready");
    pool.send({ t: "inputs", inputs: [{ id: 1, args: encode([1]) }] });
    await pool.waitClosed();
    await waitUntil(
      async () => ((await hostRequest(host.url, "GET", `/containers/${c.id}`)).body as HostedContainer).state === "exited",
      "the host to see the exit",
    );
    expect((await hostRequest(host.url, "GET", `/containers/${c.id}`)).body).toMatchObject({ exitCode: 1, signal: null });
  });

  it("stops a container on DELETE and answers once it has exited", async () => {
    const c = await startContainer(host.url);
    const res = await hostRequest(host.url, "DELETE", `/containers/${c.id}`);
    expect(res).toMatchObject({ status: 200, body: { id: c.id, state: "exited", exitCode: 0 } });
    expect(isAlive(c.info.pid)).toBe(false);
    // A stopped id may be started again.
    const again = await hostRequest(host.url, "POST", "/containers", { id: c.id, env: { SQUALL_CONTAINER_ID: c.id, SQUALL_CONTAINER_SECRET: "s" } });
    expect(again.status).toBe(201);
  });

  it("kills every container when it closes", async () => {
    const { host: other } = await startTestHost();
    const a = await startContainer(other.url);
    const b = await startContainer(other.url);
    await other.close();
    expect(isAlive(a.info.pid)).toBe(false);
    expect(isAlive(b.info.pid)).toBe(false);
    await expect(fetch(`${other.url}/healthz`)).rejects.toThrow();
  });

  it("runs from its CLI, and its runners exit when the host process is killed", async () => {
    const child = spawn(process.execPath, [HOST_MAIN, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const first = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once("line", resolve));
      const url = /^container host listening on (http:\/\/127\.0\.0\.1:\d+) /.exec(first)?.[1];
      expect(url, first).toBeDefined();
      const c = await startContainer(url!);
      child.kill("SIGKILL"); // no chance to clean up: the runner must notice on its own
      await waitUntil(() => !isAlive(c.info.pid), "the orphaned runner to exit", 4_000);
    } finally {
      child.kill("SIGKILL");
    }
  });
});

describe("container host limits", () => {
  const GiB = 1024 ** 3;

  it("defaults from the machine: 32 containers and 8 starts on 2 cores and 24 GiB, never fewer than the demo's 10", () => {
    expect(defaultLimits({ cores: 2, memoryBytes: 24 * GiB })).toEqual({ maxContainers: 32, maxStarts: 8 });
    expect(defaultLimits({ cores: 16, memoryBytes: 8 * GiB })).toEqual({ maxContainers: 16, maxStarts: 64 });
    expect(defaultLimits({ cores: 1, memoryBytes: 1 * GiB })).toEqual({ maxContainers: 10, maxStarts: 4 });
  });

  it("takes options over env vars over the defaults, and names a bad env var", () => {
    const machine = { cores: 2, memoryBytes: 24 * GiB };
    expect(resolveLimits({}, { SQUALL_LOCAL_MAX_CONTAINERS: "100", SQUALL_LOCAL_MAX_STARTS: "3" }, machine)).toEqual({ maxContainers: 100, maxStarts: 3 });
    expect(resolveLimits({ maxContainers: 5 }, { SQUALL_LOCAL_MAX_CONTAINERS: "100" }, machine)).toEqual({ maxContainers: 5, maxStarts: 8 });
    expect(() => resolveLimits({}, { SQUALL_LOCAL_MAX_CONTAINERS: "lots" }, machine)).toThrow(
      /SQUALL_LOCAL_MAX_CONTAINERS must be a whole number of at least 1, not "lots"/,
    );
  });

  it("refuses a start past maxContainers with 429 and a retry-after, and takes one again once a container stops", async () => {
    const { host: small } = await startTestHost({ maxContainers: 2 });
    try {
      const a = await startContainer(small.url);
      await startContainer(small.url);
      const refused = await hostRequest(small.url, "POST", "/containers", { id: "ct-one-too-many", env: {} });
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({
        error: { code: "RESOURCE_EXHAUSTED", message: "the local container host runs 2 containers, its limit (2)", retryAfterMs: 2_000 },
      });
      expect(refused.headers.get("retry-after")).toBe("2");
      expect((await hostRequest(small.url, "DELETE", `/containers/${a.id}`)).status).toBe(200);
      await startContainer(small.url);
    } finally {
      await small.close();
    }
  });

  it("refuses starts past maxStarts while others are still starting", async () => {
    const { host: small } = await startTestHost({ maxStarts: 2 });
    try {
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          startContainer(small.url).then(
            () => 201,
            (e: Error) => e.message,
          ),
        ),
      );
      expect(results.filter((r) => r === 201).length).toBeGreaterThanOrEqual(2);
      const refusals = results.filter((r) => r !== 201);
      expect(refusals.length).toBeGreaterThan(0);
      for (const r of refusals) expect(r).toMatch(/HTTP 429 .*already starting 2 containers \(at most 2 at once\)/);
    } finally {
      await small.close();
    }
  });
});

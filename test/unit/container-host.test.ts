// The local container host: its HTTP API, and that runner processes start,
// stop, report how they ended, and never outlive the host.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ContainerHost } from "../../sdk/src/host/index.js";
import type { HostedContainer } from "../../sdk/src/wire/host.js";
import { encode } from "../../sdk/src/wire/serialization.js";
import { PoolClient, hostRequest, isAlive, serveFixtureBundle, startContainer, startTestHost, waitUntil, type BundleServer } from "./fixtures/harness.js";

const HOST_MAIN = fileURLToPath(new URL("../../sdk/dist/host/main.js", import.meta.url));

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
    expect(await hostRequest(host.url, "GET", "/healthz")).toEqual({ status: 200, body: { ok: true } });
    const c = await startContainer(host.url);
    expect(c.info).toMatchObject({ id: c.id, state: "running", exitCode: null, signal: null });
    expect(isAlive(c.info.pid)).toBe(true);
    const health = await fetch(`http://127.0.0.1:${c.info.port}/healthz`);
    expect(await health.json()).toEqual({ ok: true, containerId: c.id });
    expect(await hostRequest(host.url, "GET", `/containers/${c.id}`)).toEqual({ status: 200, body: c.info });
    const list = (await hostRequest(host.url, "GET", "/containers")).body as { containers: HostedContainer[] };
    expect(list.containers).toContainEqual(c.info);
    // The runner's own output comes through, prefixed with the container.
    await waitUntil(() => lines.includes(`[container ${c.id.slice(0, 8)}] [squall runner] container ${c.id} listening on 127.0.0.1:${c.info.port}`), "the runner's start line");
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

  it("answers 500 with the runner's last words when it exits before listening", async () => {
    const res = await hostRequest(host.url, "POST", "/containers", { id: "ct-no-secret", env: { SQUALL_CONTAINER_ID: "ct-no-secret" } });
    expect(res.status).toBe(500);
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
    await waitUntil(async () => ((await hostRequest(host.url, "GET", `/containers/${c.id}`)).body as HostedContainer).state === "exited", "the host to see the exit");
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
      const url = /^container host listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(first)?.[1];
      expect(url, first).toBeDefined();
      const c = await startContainer(url!);
      child.kill("SIGKILL"); // no chance to clean up: the runner must notice on its own
      await waitUntil(() => !isAlive(c.info.pid), "the orphaned runner to exit", 4_000);
    } finally {
      child.kill("SIGKILL");
    }
  });
});

// Issue "Foundation": deploy a TypeScript app with the CLI and call it with
// the SDK, on the real local platform.
import { describe, it, expect, beforeAll } from "vitest";
import { inject } from "vitest";
import { Client, NotFoundError, AuthError, FunctionTimeoutError, RemoteError } from "../../sdk/src/index";
import { client, deploy, node, squall } from "./helpers";

describe("deploy and call", () => {
  beforeAll(async () => {
    await deploy("examples/hello.ts");
  });

  it("deploys a TypeScript file with the CLI and lists the app", async () => {
    const list = await squall(["app", "list", "--json"]);
    expect(list.code).toBe(0);
    const apps = JSON.parse(list.stdout) as { apps: Array<{ name: string; functions: string[] }> };
    expect(apps.apps.find((a) => a.name === "hello")?.functions.sort()).toEqual(["square", "validate"]);
  });

  it("is callable by name from a plain .mjs client, and a remote error keeps its name and message", async () => {
    const r = await node(await import("node:fs").then((fs) => fs.readFileSync("examples/client.mjs", "utf8")));
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("square(12) = 144");
    expect(r.stdout).toContain("ValidationError: age must be positive, got -1");
  });

  it("rethrows a remote error with its name, message, properties and remote stack", async () => {
    const validate = await client().functions.fromName<[{ age: number }], { ok: boolean }>("hello", "validate");
    const err = await validate.remote({ age: -5 }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.name).toBe("ValidationError");
    expect(err!.message).toBe("age must be positive, got -5");
    expect((err as Error & { field: string }).field).toBe("age");
    expect(err!.stack).toMatch(/hello\.ts/);
  });

  it("runs many remote calls in parallel across containers", async () => {
    const square = await client().functions.fromName<[number], number>("hello", "square");
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => square.remote(i)));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i * i));
    const stats = await square.getCurrentStats();
    expect(stats.containers.total).toBeGreaterThanOrEqual(1);
    expect(stats.containers.total).toBeLessThanOrEqual(4);
    expect(stats.autoscaler.maxContainers).toBe(4);
  });

  it("answers NotFoundError for an unknown app or function, AuthError for a bad token", async () => {
    await expect(client().functions.fromName("hello", "cube")).rejects.toBeInstanceOf(NotFoundError);
    await expect(client().functions.fromName("nope", "square")).rejects.toBeInstanceOf(NotFoundError);
    const bad = new Client({ url: inject("squallUrl"), token: "sq_wrong" });
    await expect(bad.functions.fromName("hello", "square")).rejects.toBeInstanceOf(AuthError);
  });

  it("refuses an invalid option at deploy with a message naming it", async () => {
    const r = await squall(["deploy", "test/e2e/apps/bad-options.ts"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/minContainers/);
    const list = JSON.parse((await squall(["app", "list", "--json"])).stdout) as { apps: Array<{ name: string }> };
    expect(list.apps.map((a) => a.name)).not.toContain("bad-options");
  });

  it("a token of another workspace sees nothing", async () => {
    const res = await fetch(`${inject("squallUrl")}/v1/workspaces`, {
      method: "POST",
      headers: { authorization: `Bearer ${inject("squallAdminSecret")}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "other" }),
    });
    const { token } = (await res.json()) as { token: string };
    const other = new Client({ url: inject("squallUrl"), token });
    await expect(other.functions.fromName("hello", "square")).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("faults", () => {
  beforeAll(async () => {
    await deploy("test/e2e/apps/faults.ts");
  });

  it("a function that kills its process fails with a clear error, and the pool replaces the container", async () => {
    const crash = await client().functions.fromName<[], never>("faults", "crash");
    const err = await crash.remote().then(
      () => null,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(RemoteError);
    expect(err!.message).toMatch(/stopped unexpectedly 3 times/);
    expect(err!.message).toMatch(/exited with code 1/);
    const echo = await client().functions.fromName<[string], string>("faults", "echo");
    expect(await echo.remote("still fine")).toBe("still fine");
  });

  it("an input that runs past timeoutMs fails with FunctionTimeoutError, even if it blocks its event loop", async () => {
    for (const name of ["hang", "spin"]) {
      const f = await client().functions.fromName<[], string>("faults", name);
      const started = Date.now();
      const err = await f.remote().then(
        () => null,
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(FunctionTimeoutError);
      expect(err!.message).toMatch(/timeoutMs \(2000 ms\)/);
      expect(Date.now() - started).toBeLessThan(30_000);
    }
  });
});

describe("squall run", () => {
  it("runs the local entrypoint against an ephemeral copy of the app and removes it", async () => {
    const r = await squall(["run", "examples/hello.ts"]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("square(12) = 144");
    expect(r.stdout).toContain("squares: 1, 4, 9, 16, 25");
    const list = JSON.parse((await squall(["app", "list", "--json"])).stdout) as { apps: Array<{ name: string }> };
    expect(list.apps.filter((a) => a.name.startsWith("hello-run-"))).toEqual([]);
  });

  it("a function calling another function from its container stays within the ephemeral copy", async () => {
    // "nested" is never deployed under its own name: the inner call must go to the run's copy.
    const r = await squall(["run", "test/e2e/apps/nested.ts"]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.stdout).toContain("outer(1) = 20");
  });
});

// Issue "Real, bounded compute", point 3: the platform cannot go stale.
// `npm run dev` as a user runs it, killed the ways a terminal, a CI timeout
// or the OOM killer kill it; the next one starts clean, and a port that is
// taken is refused with a message that says by what.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/platform";
import { ROOT, eventually } from "./helpers";

const dir = mkdtempSync(join(tmpdir(), "squall-lifetime-"));
const started: ChildProcess[] = [];

afterAll(() => {
  for (const child of started) {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

interface Dev {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** `npm run dev -- --port N` in a process group of its own, as a shell starts it. */
function npmRunDev(port: number): Dev {
  const child = spawn("npm", ["run", "dev", "--", "--port", String(port)], {
    cwd: ROOT,
    env: { ...process.env, SQUALL_STATE_DIR: join(dir, "state"), SQUALL_CONFIG_PATH: join(dir, "squall.toml") },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  started.push(child);
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function runningAt(dev: Dev): Promise<void> {
  await eventually(
    `npm run dev to say it runs (it printed: ${JSON.stringify(dev.output().slice(-2000))})`,
    async () => (dev.output().includes("Squall is running locally") ? true : undefined),
    90_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; it printed:\n${dev.output().slice(-3000)}`);
  });
}

/** Deploys examples/hello.ts and runs examples/client.mjs, as the README's quick start does. */
async function quickStart(): Promise<string> {
  const env = { ...process.env, SQUALL_CONFIG_PATH: join(dir, "squall.toml") };
  const run = (args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.stderr.on("data", (c: Buffer) => (out += c.toString()));
      child.once("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(" ")} failed: ${out}`))));
    });
  await run([join(ROOT, "sdk/bin/squall.js"), "deploy", "examples/hello.ts"]);
  return run(["examples/client.mjs"]);
}

/**
 * Nothing of the platform on `port` runs: no process answers there, and no
 * wrangler, local Worker (scripts/local-worker.mjs) or workerd holds it.
 * workerd under Miniflare names its port as `--socket-addr=entry=127.0.0.1:P`.
 */
async function gone(port: number): Promise<true | undefined> {
  try {
    await fetch(`http://127.0.0.1:${port}/v1/health`, { signal: AbortSignal.timeout(1_000) });
    return undefined;
  } catch {
    const { execFileSync } = await import("node:child_process");
    const ps = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
    const holdsPort = new RegExp(`(--port |127\\.0\\.0\\.1:)${port}(\\s|$)`);
    return ps.split("\n").some((line) => /wrangler|local-worker|workerd/.test(line) && holdsPort.test(line)) ? undefined : true;
  }
}

describe("npm run dev", () => {
  it("ends the Worker (wrangler or local-worker) and workerd when it is killed with SIGKILL, and the next one serves calls", { timeout: 300_000 }, async () => {
    const port = await freePort();
    const first = npmRunDev(port);
    await runningAt(first);
    expect(await quickStart()).toContain("square(12) = 144");

    // A second one refuses, saying where the first one runs.
    const second = npmRunDev(port);
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(`Squall is already running at http://127.0.0.1:${port}`);

    // SIGKILL of its whole process group: nothing it started survives.
    process.kill(-first.child.pid!, "SIGKILL");
    await eventually("the killed platform to be gone", () => gone(port), 30_000);

    const third = npmRunDev(port);
    await runningAt(third);
    expect(await quickStart()).toContain("square(12) = 144");

    // SIGKILL of the npm process alone.
    process.kill(third.child.pid!, "SIGKILL");
    await eventually("the platform to be gone after npm itself was killed", () => gone(port), 30_000);
  });

  it("refuses a port another program holds, and says so", async () => {
    const port = await freePort();
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
    try {
      const dev = npmRunDev(port);
      expect(await dev.exited).toBe(1);
      expect(dev.output()).toContain(`port ${port} on 127.0.0.1 is taken by another program`);
      expect(dev.output()).not.toContain("Squall is running locally");
    } finally {
      squatter.close();
    }
  });
});

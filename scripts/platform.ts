// Starts the whole platform locally (DESIGN §1 "Local platform"): D1
// migrations, the container host, and the Worker under wrangler dev with
// local D1 / Queues / Durable Objects / R2. Used by `npm run dev`, `npm run
// demo`, the end-to-end tests and the benchmarks.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { pickFreePort } from "../sdk/src/host/ports";

export const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));

export interface PlatformOptions {
  /** Worker port (default 8787). */
  port?: number;
  /** Where local state lives (default .wrangler/state). */
  persistTo?: string;
  /** Print wrangler's and the containers' output. */
  verbose?: boolean;
  log?: (line: string) => void;
}

export interface LocalPlatform {
  url: string;
  hostUrl: string;
  adminSecret: string;
  persistTo: string;
  /** Creates a workspace and returns its first token. */
  createWorkspace(name: string): Promise<string>;
  /** Stops the Worker (state stays on disk) — and the container host unless `keepHost`. */
  stopWorker(): Promise<void>;
  /** Starts the Worker again on the same state (a platform restart). */
  restartWorker(): Promise<void>;
  close(): Promise<void>;
}

/** Secrets of the local platform, made once and kept with its state. */
function localSecrets(persistTo: string): { SQUALL_ADMIN_SECRET: string; SQUALL_SIGNING_KEY: string } {
  const file = join(persistTo, "squall-secrets.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8"));
  mkdirSync(persistTo, { recursive: true });
  const secrets = { SQUALL_ADMIN_SECRET: randomBytes(24).toString("hex"), SQUALL_SIGNING_KEY: randomBytes(32).toString("hex") };
  writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}

/** A free port on 127.0.0.1 (the container host's own probe). */
export const freePort = pickFreePort;

function run(cmd: string, args: string[], opts: { verbose: boolean; log: (l: string) => void }): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const collect = (chunk: Buffer): void => {
      output += chunk.toString();
      if (opts.verbose) opts.log(chunk.toString().trimEnd());
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("exit", (code) => (code === 0 ? resolveRun() : reject(new Error(`${cmd} ${args.join(" ")} failed (exit ${code}):\n${output.slice(-4000)}`))));
  });
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with code ${child.exitCode}:\n${output().slice(-4000)}`);
    try {
      const res = await fetch(`${url}/v1/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the Worker did not answer ${url}/v1/health within ${timeoutMs / 1000} s:\n${output().slice(-4000)}`);
}

export async function startLocalPlatform(options: PlatformOptions = {}): Promise<LocalPlatform> {
  const log = options.log ?? ((line: string) => console.log(line));
  const verbose = options.verbose ?? false;
  const port = options.port ?? 8787;
  const persistTo = resolve(options.persistTo ?? join(ROOT, ".wrangler", "state"));
  const url = `http://127.0.0.1:${port}`;
  const secrets = localSecrets(persistTo);
  const wrangler = join(ROOT, "node_modules", ".bin", "wrangler");

  await run(wrangler, ["d1", "migrations", "apply", "squall", "--local", "--persist-to", persistTo], { verbose, log });

  const hostModule = join(ROOT, "sdk", "dist", "host", "index.js");
  if (!existsSync(hostModule)) throw new Error("the squall package is not built: run `npm install` (or `npm run build`) first");
  const { startContainerHost } = (await import(hostModule)) as typeof import("../sdk/src/host/index");
  const host = await startContainerHost({ port: 0, log: verbose ? (l: string) => log(l) : () => undefined });

  let worker: ChildProcess | null = null;
  let output = "";
  const startWorker = async (): Promise<void> => {
    output = "";
    const inspectorPort = await freePort();
    const args = [
      "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort),
      "--persist-to", persistTo, "--show-interactive-dev-session=false", "--test-scheduled", "--log-level", verbose ? "log" : "warn",
      "--var", "COMPUTE_BACKEND:local",
      "--var", `LOCAL_CONTAINER_HOST_URL:${host.url}`,
      "--var", `SQUALL_PUBLIC_URL:${url}`,
      "--var", `SQUALL_ADMIN_SECRET:${secrets.SQUALL_ADMIN_SECRET}`,
      "--var", `SQUALL_SIGNING_KEY:${secrets.SQUALL_SIGNING_KEY}`,
    ];
    const child = spawn(wrangler, args, {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    worker = child;
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-20_000);
      if (verbose) log(chunk.toString().trimEnd());
    };
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    await waitForHealth(url, child, () => output, 90_000);
  };
  const stopWorker = async (): Promise<void> => {
    const child = worker;
    worker = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      child.kill("SIGTERM");
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // gone
      }
    }, 5_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await startWorker();
  } catch (err) {
    await stopWorker();
    await host.close();
    throw err;
  }
  const cron = startCronTicker(url, log);

  return {
    url,
    hostUrl: host.url,
    adminSecret: secrets.SQUALL_ADMIN_SECRET,
    persistTo,
    async createWorkspace(name: string): Promise<string> {
      const res = await fetch(`${url}/v1/workspaces`, {
        method: "POST",
        headers: { authorization: `Bearer ${secrets.SQUALL_ADMIN_SECRET}`, "content-type": "application/json" },
        body: JSON.stringify({ name }),
      });
      if (!res.ok) throw new Error(`creating workspace failed: HTTP ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    stopWorker,
    restartWorker: startWorker,
    async close(): Promise<void> {
      cron.stop();
      await stopWorker();
      await host.close();
    },
  };
}

/**
 * wrangler dev does not fire Cron Triggers by itself: do what Cloudflare does
 * in production and call the scheduled handler at the start of every minute.
 */
function startCronTicker(url: string, log: (line: string) => void): { stop(): void } {
  let timer: NodeJS.Timeout | null = null;
  const arm = (): void => {
    const now = Date.now();
    timer = setTimeout(tick, 60_000 - (now % 60_000) + 50);
  };
  const tick = async (): Promise<void> => {
    const scheduledTime = Math.floor(Date.now() / 60_000) * 60_000;
    arm();
    try {
      const res = await fetch(`${url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("* * * * *")}&time=${scheduledTime}`);
      await res.body?.cancel();
    } catch (err) {
      log(`cron tick failed: ${(err as Error).message}`);
    }
  };
  arm();
  return {
    stop: () => {
      if (timer) clearTimeout(timer);
    },
  };
}

// Starts the whole platform locally: D1 migrations, the compute, and the
// Worker in workerd with local D1 / Queues / Durable Objects / R2.
// Used by `npm run dev`, `npm run demo`, the end-to-end tests and the
// benchmarks. Two kinds of compute:
// - "local" (default): the local container host runs each container as a
//   runner process on this machine (no Docker needed); the Worker runs under
//   Miniflare directly (scripts/local-worker.mjs), without wrangler dev's
//   proxy in front of it;
// - "containers": the production compute backend, the `Runner` container
//   class, starting real containers from the Dockerfile on a local Docker
//   engine (scripts/containers; `npm run setup:containers` first), under
//   wrangler dev, which builds the image and runs the containers.
// Either runs under scripts/process-tether.mjs, so it and workerd end with
// the process that started them, however that process ends.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, connect, type Server } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { pickFreePort } from "../sdk/src/host/ports";
import { checkPlatformCanStart, recordPlatform, PlatformStartError } from "./platform-guard";
import { prepareLocalWorker, type LocalWorker } from "./local-worker-options";

export const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));

export type Compute = "local" | "containers";

export interface PlatformOptions {
  /** Worker port (default 8787). */
  port?: number;
  /** Where local state lives (default .wrangler/state). */
  persistTo?: string;
  /** "local" runner processes (default) or real containers on a local Docker engine. */
  compute?: Compute;
  /** Print wrangler's and the containers' output. */
  verbose?: boolean;
  log?: (line: string) => void;
}

export interface LocalPlatform {
  url: string;
  compute: Compute;
  /** The local container host's URL ("local" compute); null with real containers. */
  hostUrl: string | null;
  adminSecret: string;
  persistTo: string;
  /** Creates a workspace and returns its first token. */
  createWorkspace(name: string): Promise<string>;
  /** Stops the Worker (state stays on disk); the compute keeps running. */
  stopWorker(): Promise<void>;
  /** Starts the Worker again on the same state (a platform restart). */
  restartWorker(): Promise<void>;
  close(): Promise<void>;
}

export { PlatformStartError };

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

async function waitForHealth(url: string, platformId: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the Worker's process exited (${child.exitCode ?? child.signalCode}):\n${output().slice(-4000)}`);
    try {
      const res = await fetch(`${url}/v1/health`);
      // Only this platform's Worker counts: another one answering on the port is not a start.
      if (res.ok && ((await res.json()) as { platformId?: string }).platformId === platformId) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the Worker did not answer ${url}/v1/health within ${timeoutMs / 1000} s:\n${output().slice(-4000)}`);
}

/** What the Worker runs its containers on: its vars, env vars for wrangler, and how to let go of it. */
interface ComputeSetup {
  hostUrl: string | null;
  /** Whether the Worker runs under wrangler dev (real containers) or Miniflare directly. */
  runner: "wrangler" | "miniflare";
  vars: Record<string, string>;
  wranglerEnv: Record<string, string>;
  /** Docker containers that belong to this platform (removed on stop and after a crash). */
  containerPrefix: string | null;
  close(): Promise<void>;
}

/** wrangler names local containers `workerd-<worker>-<class>-<id>` (and `…-proxy` for their sidecars). */
const CONTAINER_PREFIX = "workerd-squall-";

async function setUpLocalHost(url: string, verbose: boolean, log: (line: string) => void): Promise<ComputeSetup> {
  const hostModule = join(ROOT, "sdk", "dist", "host", "index.js");
  if (!existsSync(hostModule)) throw new Error("the squall package is not built: run `npm install` (or `npm run build`) first");
  const { startContainerHost } = (await import(hostModule)) as typeof import("../sdk/src/host/index");
  const host = await startContainerHost({ port: 0, log: verbose ? (l: string) => log(l) : () => undefined });
  return {
    hostUrl: host.url,
    runner: "miniflare",
    vars: { COMPUTE_BACKEND: "local", LOCAL_CONTAINER_HOST_URL: host.url, SQUALL_PUBLIC_URL: url },
    wranglerEnv: {},
    containerPrefix: null,
    close: () => host.close(),
  };
}

async function setUpContainers(port: number): Promise<ComputeSetup> {
  const { bridgeGateway, engineReady, imagesReady, DOCKER_SHIM, EGRESS_IMAGE, removeContainers } = await import("./containers/engine");
  if (!(await engineReady()) || !imagesReady()) {
    throw new PlatformStartError("local containers need a running Docker engine and the local images: run `npm run setup:containers` first");
  }
  const { bundleRunner } = await import("./containers/bundle-runner");
  await bundleRunner();
  // Left by a platform that was killed: their Durable Objects are gone with it.
  await removeContainers(CONTAINER_PREFIX);
  // Containers reach the host only through the bridge gateway, and wrangler
  // listens on loopback: forward the gateway's port to it.
  const gateway = bridgeGateway();
  const forwarder = await forwardPort(gateway, port);
  return {
    hostUrl: null,
    runner: "wrangler",
    vars: { COMPUTE_BACKEND: "cloudflare", LOCAL_CONTAINER_HOST_URL: "", SQUALL_PUBLIC_URL: `http://${gateway}:${port}` },
    wranglerEnv: { WRANGLER_DOCKER_BIN: DOCKER_SHIM, MINIFLARE_CONTAINER_EGRESS_IMAGE: EGRESS_IMAGE },
    containerPrefix: CONTAINER_PREFIX,
    async close() {
      await new Promise<void>((r) => forwarder.close(() => r()));
      await removeContainers(CONTAINER_PREFIX);
    },
  };
}

/** A TCP forwarder from `host:port` to 127.0.0.1:port. */
function forwardPort(host: string, port: number): Promise<Server> {
  const server = createServer((inbound) => {
    const outbound = connect(port, "127.0.0.1");
    inbound.pipe(outbound).pipe(inbound);
    inbound.on("error", () => outbound.destroy());
    outbound.on("error", () => inbound.destroy());
  });
  return new Promise((resolveListen, reject) => {
    server.once("error", (err) =>
      reject(new PlatformStartError(`cannot listen on the Docker bridge gateway ${host}:${port} for containers to reach the Worker: ${err.message}`)),
    );
    server.listen(port, host, () => resolveListen(server));
  });
}

export async function startLocalPlatform(options: PlatformOptions = {}): Promise<LocalPlatform> {
  const log = options.log ?? ((line: string) => console.log(line));
  const verbose = options.verbose ?? false;
  const port = options.port ?? 8787;
  const compute = options.compute ?? "local";
  const persistTo = resolve(options.persistTo ?? join(ROOT, ".wrangler", "state"));
  const url = `http://127.0.0.1:${port}`;
  await checkPlatformCanStart(port, compute);
  const secrets = localSecrets(persistTo);
  const wrangler = join(ROOT, "node_modules", ".bin", "wrangler");

  await run(wrangler, ["d1", "migrations", "apply", "squall", "--local", "--persist-to", persistTo], { verbose, log });

  const setup = compute === "containers" ? await setUpContainers(port) : await setUpLocalHost(url, verbose, log);
  const record = recordPlatform(port, { pid: process.pid, url, compute, persistTo, startedAt: new Date().toISOString() });

  let worker: ChildProcess | null = null;
  let localWorker: LocalWorker | null = null;
  let output = "";
  // Where the scheduled handler is triggered: the public port under wrangler dev;
  // Miniflare's own entry port otherwise (the public one goes to the Worker directly).
  let triggerUrl = url;
  const startWorker = async (): Promise<void> => {
    output = "";
    const inspectorPort = await freePort();
    const platformId = randomBytes(8).toString("hex");
    const vars = { ...setup.vars, SQUALL_PLATFORM_ID: platformId, ...secrets };
    let command: string[];
    if (setup.runner === "miniflare") {
      localWorker = await prepareLocalWorker(ROOT, persistTo, vars);
      const entryPort = await freePort();
      triggerUrl = `http://127.0.0.1:${entryPort}`;
      command = [
        process.execPath,
        join(ROOT, "scripts", "local-worker.mjs"),
        "--port",
        String(port),
        "--entry-port",
        String(entryPort),
        "--inspector-port",
        String(inspectorPort),
        "--options",
        localWorker.optionsFile,
        ...(verbose ? ["--verbose"] : []),
      ];
    } else {
      command = [
        wrangler,
        "dev",
        "--enable-containers",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--inspector-port",
        String(inspectorPort),
        "--persist-to",
        persistTo,
        "--show-interactive-dev-session=false",
        "--test-scheduled",
        "--log-level",
        verbose ? "log" : "warn",
        ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
      ];
    }
    const tether = [
      join(ROOT, "scripts", "process-tether.mjs"),
      ...(setup.containerPrefix ? ["--remove-containers", setup.containerPrefix] : []),
      "--",
      ...command,
    ];
    const child = spawn(process.execPath, tether, {
      cwd: ROOT,
      env: { ...process.env, ...setup.wranglerEnv, WRANGLER_SEND_METRICS: "false", CI: "true" },
      // stdin stays open for the tether's lifetime: it stops the Worker when the pipe closes.
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    worker = child;
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-20_000);
      if (verbose) log(chunk.toString().trimEnd());
    };
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    // The first image build in containers mode takes a while.
    await waitForHealth(url, platformId, child, () => output, compute === "containers" ? 300_000 : 90_000);
  };
  const stopWorker = async (): Promise<void> => {
    const child = worker;
    worker = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      // Closing its stdin tells the tether to stop the Worker and clean up; it ends its own group.
      child.stdin!.end();
      await exited;
    }
    localWorker?.remove();
    localWorker = null;
  };

  try {
    await startWorker();
  } catch (err) {
    await stopWorker();
    await setup.close();
    record.release();
    throw err;
  }
  const cron = startCronTicker(() => triggerUrl, log);

  return {
    url,
    compute,
    hostUrl: setup.hostUrl,
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
      await setup.close();
      record.release();
    },
  };
}

/**
 * wrangler dev does not fire Cron Triggers by itself: do what Cloudflare does
 * in production and call the scheduled handler at the start of every minute.
 */
function startCronTicker(triggerUrl: () => string, log: (line: string) => void): { stop(): void } {
  let timer: NodeJS.Timeout | null = null;
  const arm = (): void => {
    const now = Date.now();
    timer = setTimeout(() => void tick(), 60_000 - (now % 60_000) + 50);
  };
  const tick = async (): Promise<void> => {
    const scheduledTime = Math.floor(Date.now() / 60_000) * 60_000;
    arm();
    try {
      const res = await fetch(`${triggerUrl()}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("* * * * *")}&time=${scheduledTime}`);
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

// `npm run dev [-- --containers] [-- --port N]`: the whole platform locally,
// a workspace token, and the active profile in ~/.squall.toml so `npx
// squall` and `new Client()` just work. With --containers the Worker starts
// real containers from the Dockerfile on a local Docker engine (run `npm run
// setup:containers` once first).
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { startLocalPlatform, PlatformStartError, type Compute, type LocalPlatform } from "./platform";
import { processAlive } from "./platform-guard";
import { ensureProfile } from "./profile";

/** How often `npm run dev` checks that whoever started it is still there. */
const ORPHAN_CHECK_MS = 500;

export interface DevOptions {
  quiet?: boolean;
  port?: number;
  compute?: Compute;
  persistTo?: string;
}

export async function startDev(options: DevOptions = {}): Promise<{ platform: LocalPlatform; token: string }> {
  const platform = await startLocalPlatform({
    verbose: process.env.SQUALL_VERBOSE === "1",
    port: options.port,
    compute: options.compute,
    persistTo: options.persistTo,
  });
  const token = await ensureProfile(platform);
  if (!options.quiet) {
    console.log(`
  Squall is running locally.

  URL        ${platform.url}
  Compute    ${platform.compute === "containers" ? "real containers on the local Docker engine (Runner container class)" : "runner processes on this machine (local container host)"}
  Token      ${token}
  Dashboard  ${platform.url}/
  Profile    "local" (active) in ${process.env.SQUALL_CONFIG_PATH ?? "~/.squall.toml"}

  Try:  npx squall deploy examples/hello.ts
        node examples/client.mjs
`);
  }
  return { platform, token };
}

/** The process group this process belongs to (Linux), or null where /proc does not say. */
function processGroup(): number | null {
  try {
    // Field 5 of /proc/self/stat, after the parenthesised command name.
    const stat = readFileSync("/proc/self/stat", "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
  } catch {
    return null;
  }
}

/**
 * Calls `onOrphaned` once this process's parent, or the leader of its process
 * group (`npm run dev` itself, when started from a shell), is gone: killing
 * npm with SIGKILL leaves its children running, and they must not keep the
 * platform up on their own.
 */
function watchForOrphaning(onOrphaned: () => void): void {
  const parent = process.ppid;
  const group = processGroup();
  const leader = group !== null && group !== process.pid ? group : null;
  const timer = setInterval(() => {
    if (process.ppid !== parent || (leader !== null && !processAlive(leader))) {
      clearInterval(timer);
      onOrphaned();
    }
  }, ORPHAN_CHECK_MS);
  timer.unref();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { containers: { type: "boolean", default: false }, port: { type: "string" } } });
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65_535)) {
    console.error(`npm run dev: --port must be a port number (1-65535), not ${values.port}`);
    process.exit(2);
  }
  let platform: LocalPlatform;
  try {
    ({ platform } = await startDev({ port, compute: values.containers ? "containers" : "local", persistTo: process.env.SQUALL_STATE_DIR }));
  } catch (err) {
    if (!(err instanceof PlatformStartError)) throw err;
    console.error(`npm run dev: ${err.message}`);
    process.exit(1);
  }
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log("stopping…");
    await platform.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
  process.on("SIGHUP", () => void stop());
  watchForOrphaning(() => void stop());
  console.log("  Press Ctrl-C to stop.");
}

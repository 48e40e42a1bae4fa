// `node scripts/process-tether.mjs [--remove-containers PREFIX] -- COMMAND ARGS…`
//
// Runs COMMAND (wrangler dev, and through it workerd) so that it cannot
// outlive the process that started the tether, however that process ends.
// The starter spawns the tether in a process group of its own and keeps its
// stdin open; COMMAND runs in the tether's group. When the stdin pipe closes
// (the starter exited, crashed or was killed with SIGKILL, alone or with its
// whole group) or the tether gets SIGTERM/SIGINT/SIGHUP, the tether stops its
// group: SIGTERM, then SIGKILL after a grace period. Docker containers named
// PREFIX… (what workerd leaves behind) are removed before it exits.
//
// Plain JavaScript, so it runs on bare node without the TypeScript loader.
import { execFile, spawn } from "node:child_process";

/** wrangler stops workerd and its containers within a few seconds of SIGTERM. */
const STOP_GRACE_MS = 5_000;
/** Removing leftover containers: a few seconds each, bounded so the tether always ends. */
const DOCKER_TIMEOUT_MS = 30_000;

const separator = process.argv.indexOf("--");
if (separator < 0 || separator === process.argv.length - 1) {
  process.stderr.write("usage: process-tether.mjs [--remove-containers PREFIX] -- COMMAND ARGS…\n");
  process.exit(2);
}
const own = process.argv.slice(2, separator);
const [command, ...args] = process.argv.slice(separator + 1);
const prefixAt = own.indexOf("--remove-containers");
const containerPrefix = prefixAt >= 0 ? own[prefixAt + 1] : null;

const child = spawn(command, args, { stdio: ["ignore", "inherit", "inherit"] });
let stopping = false;

function docker(argv) {
  return new Promise((resolve) => {
    execFile("docker", argv, { timeout: DOCKER_TIMEOUT_MS }, (error, stdout) => resolve(error ? "" : stdout));
  });
}

async function removeContainers() {
  if (!containerPrefix) return;
  const ids = (await docker(["ps", "-aq", "--filter", `name=^/${containerPrefix}`])).split("\n").filter(Boolean);
  if (ids.length > 0) await docker(["rm", "-f", ...ids]);
}

async function stop() {
  if (stopping) return;
  stopping = true;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      // The whole group: wrangler, workerd, and anything they started; this process ignores it (handled below).
      process.kill(-process.pid, "SIGTERM");
    } catch {
      child.kill("SIGTERM");
    }
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS))]);
  }
  await removeContainers();
  // Last: whatever of the group still runs, this process included.
  process.kill(-process.pid, "SIGKILL");
}

for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, () => void stop());
// The starter holds the other end of stdin: EOF means it is gone.
process.stdin.on("end", () => void stop());
process.stdin.on("error", () => void stop());
process.stdin.resume();
// Output goes to the starter's pipes: once it is gone, writing fails, which must not kill the tether before it has stopped the group.
process.stdout.on("error", () => undefined);
process.stderr.on("error", () => undefined);
child.on("exit", () => void stop());

// One local platform per port, and never a stale one: before wrangler starts,
// the port must be free, and a platform that runs writes where it runs so
// that a second `npm run dev` can say so. Records live in the OS temp dir,
// keyed by port, so platforms with different state directories see each other.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface PlatformRecord {
  pid: number;
  url: string;
  compute: "local" | "containers";
  persistTo: string;
  startedAt: string;
}

export class PlatformStartError extends Error {
  override name = "PlatformStartError";
}

function recordFile(port: number): string {
  return join(tmpdir(), `squall-platform-${port}.json`);
}

/** Local Cloudflare Containers are named by the Worker, so only one containers-mode platform may run on a machine. */
const CONTAINERS_RECORD = join(tmpdir(), "squall-platform-containers.json");

/** Whether `pid` runs. A zombie (killed, not yet reaped by its parent) answers signals but runs nothing: not alive. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    // No /proc (macOS): the signal check is all there is.
    return true;
  }
}

function readRecord(file: string): PlatformRecord | null {
  if (!existsSync(file)) return null;
  try {
    const record = JSON.parse(readFileSync(file, "utf8")) as PlatformRecord;
    return processAlive(record.pid) ? record : null;
  } catch {
    return null;
  }
}

function describe(record: PlatformRecord): string {
  return `${record.url} (${record.compute} compute, pid ${record.pid}, started ${record.startedAt}, state in ${record.persistTo}); stop it with Ctrl-C where it runs, or \`kill ${record.pid}\``;
}

function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/** Throws a PlatformStartError saying what holds the port, or, in containers mode, which platform already runs containers. */
export async function checkPlatformCanStart(port: number, compute: PlatformRecord["compute"]): Promise<void> {
  const running = readRecord(recordFile(port));
  if (running) throw new PlatformStartError(`Squall is already running at ${describe(running)}`);
  if (!(await portFree(port, "127.0.0.1"))) {
    throw new PlatformStartError(
      `port ${port} on 127.0.0.1 is taken by another program, so the platform cannot start there; stop that program or choose another port (npm run dev -- --port N)`,
    );
  }
  if (compute === "containers") {
    const other = readRecord(CONTAINERS_RECORD);
    if (other)
      throw new PlatformStartError(`another platform already runs local containers, at ${describe(other)}; one containers-mode platform runs per machine`);
  }
}

/** Says where this platform runs until `release` is called (or the process is gone: a dead pid's record is ignored). */
export function recordPlatform(port: number, record: PlatformRecord): { release(): void } {
  const files = [recordFile(port), ...(record.compute === "containers" ? [CONTAINERS_RECORD] : [])];
  for (const file of files) writeFileSync(file, JSON.stringify(record));
  return {
    release() {
      for (const file of files) {
        const current = readRecord(file);
        if (!current || current.pid === record.pid) rmSync(file, { force: true });
      }
    },
  };
}

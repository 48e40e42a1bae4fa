// A private redis-server for the BullMQ side: installed from Debian when
// missing, started on a free loopback port with no persistence, stopped at
// the end.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createConnection } from "node:net";
import { freePort } from "../platform";
import { sleep } from "./stats";

export interface RedisServer {
  port: number;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

function which(cmd: string): string | null {
  try {
    return execFileSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

/** Installs Debian's redis-server if it is not on PATH (needs root, as on this project's machines). */
export function ensureRedisInstalled(log: (line: string) => void): string {
  const found = which("redis-server");
  if (found) return found;
  log("redis-server is missing: installing it from Debian (apt-get update && apt-get install -y redis-server)");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  try {
    execFileSync("apt-get", ["update"], { stdio: "ignore", env });
    execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "redis-server"], { stdio: "ignore", env });
  } catch (err) {
    throw new Error(
      `installing redis-server failed (${(err as Error).message}); install it yourself (apt-get install -y redis-server) and run the benchmark again`,
    );
  }
  const installed = which("redis-server");
  if (!installed) throw new Error("apt-get installed redis-server, but it is not on PATH");
  return installed;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" }, () => socket.write("PING\r\n"));
    socket.once("data", (d) => {
      socket.destroy();
      resolve(d.toString().startsWith("+PONG"));
    });
    socket.once("error", () => resolve(false));
  });
}

export async function startRedis(log: (line: string) => void): Promise<RedisServer> {
  const bin = ensureRedisInstalled(log);
  const version = execFileSync(bin, ["--version"], { encoding: "utf8" }).trim();
  const port = await freePort();
  const child: ChildProcess = spawn(bin, ["--save", "", "--appendonly", "no", "--port", String(port), "--bind", "127.0.0.1", "--daemonize", "no"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  const deadline = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`redis-server did not start on port ${port}: ${stderr}`);
    }
    await sleep(50);
  }
  return {
    port,
    pid: child.pid ?? -1,
    version,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      }),
  };
}

// One runner child process: spawning it, forwarding its output, knowing when
// it listens and when it exits.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { HostedContainer } from "../wire/host.js";
import { RUNNER_HEALTH_PATH } from "../wire/protocol.js";
import { ContainerFailedError, PortTakenError } from "./errors.js";

/** A runner imports only Node builtins and a few small modules; 20 s covers a cold, busy machine. */
const LISTEN_TIMEOUT_MS = 20_000;
/** Between health checks while a runner starts: short, since every start waits on it. */
const LISTEN_POLL_MS = 50;
/** One health check; a runner that listens answers at once, so this only guards against a wedged one. */
const HEALTH_REQUEST_TIMEOUT_MS = 1_000;
/** After exit, how long to wait for the last stderr lines before reporting them. */
const OUTPUT_DRAIN_MS = 200;
/** stderr lines kept to explain a runner that died while starting. */
const STDERR_TAIL_LINES = 20;
/** Host variables a runner inherits; the rest (NODE_OPTIONS above all: a test runner's loader hooks) stay out. */
const INHERITED_ENV = ["PATH", "HOME", "TMPDIR"];

export interface SpawnOptions {
  id: string;
  env: Record<string, string>;
  port: number;
  runnerPath: string;
  log: (line: string) => void;
}

export class RunnerProcess {
  readonly info: HostedContainer;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;
  private readonly closed: Promise<void>;
  private readonly stderrTail: string[] = [];

  constructor(options: SpawnOptions) {
    const env: Record<string, string> = {};
    for (const key of INHERITED_ENV) if (process.env[key]) env[key] = process.env[key]!;
    // Local runners listen on loopback only (the secret guards them, but a laptop's LAN has no business there).
    Object.assign(env, options.env, { PORT: String(options.port), SQUALL_LISTEN_HOST: "127.0.0.1", SQUALL_EXIT_WITH_PARENT: "1" });
    this.child = spawn(process.execPath, [options.runnerPath], { env, stdio: ["ignore", "pipe", "pipe"] });
    this.info = {
      id: options.id,
      pid: this.child.pid ?? -1,
      port: options.port,
      state: "running",
      exitCode: null,
      signal: null,
      startedAt: Date.now(),
    };
    const prefix = `[container ${options.id.slice(0, 8)}] `;
    forwardLines(this.child.stdout!, (line) => options.log(prefix + line));
    forwardLines(this.child.stderr!, (line) => {
      options.log(prefix + line);
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
    });
    this.exited = new Promise((resolve) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        Object.assign(this.info, { state: "exited", exitCode: code, signal });
        resolve();
      };
      this.child.once("exit", onExit);
      // A spawn failure (e.g. a bad execPath) emits "error" and maybe no "exit".
      this.child.once("error", (err) => {
        this.stderrTail.push(err.message);
        onExit(this.child.exitCode ?? -1, null);
      });
    });
    this.closed = new Promise((resolve) => this.child.once("close", () => resolve()));
  }

  get running(): boolean {
    return this.info.state === "running";
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Resolves once the runner answers its health check as this container; throws if it exits or never does. */
  async waitUntilListening(): Promise<void> {
    const deadline = Date.now() + LISTEN_TIMEOUT_MS;
    for (;;) {
      if (!this.running) throw await this.exitedEarlyError();
      if (await this.healthy()) return;
      if (Date.now() > deadline) {
        this.kill("SIGKILL");
        await this.exited;
        throw new ContainerFailedError(`runner did not listen on port ${this.info.port} within ${LISTEN_TIMEOUT_MS / 1000} s: ${this.tail()}`);
      }
      await Promise.race([new Promise((r) => setTimeout(r, LISTEN_POLL_MS)), this.exited]);
    }
  }

  private async healthy(): Promise<boolean> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.info.port}${RUNNER_HEALTH_PATH}`, { signal: AbortSignal.timeout(HEALTH_REQUEST_TIMEOUT_MS) });
      if (!res.ok) return false;
      // Another process may hold the port: only this container's runner counts.
      const body = (await res.json()) as { containerId?: unknown };
      return body.containerId === this.info.id;
    } catch {
      return false;
    }
  }

  private async exitedEarlyError(): Promise<ContainerFailedError> {
    await Promise.race([this.closed, new Promise((r) => setTimeout(r, OUTPUT_DRAIN_MS))]);
    const how = this.info.signal ? `was killed by ${this.info.signal}` : `exited with code ${this.info.exitCode}`;
    const message = `runner ${how} before listening: ${this.tail()}`;
    return this.stderrTail.some((l) => l.includes("EADDRINUSE")) ? new PortTakenError(message) : new ContainerFailedError(message);
  }

  private tail(): string {
    return this.stderrTail.join("\n") || "(no output)";
  }
}

function forwardLines(stream: Readable, onLine: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLine);
}

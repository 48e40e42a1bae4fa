// The production container (docs/architecture.md "Compute backends"): one Runner Durable
// Object per container, wrapping a Cloudflare Container that runs the runner
// image (Dockerfile). The FunctionPool starts, connects to and stops it
// through CloudflareBackend; nothing else starts it.
import { Container, type StopParams } from "@cloudflare/containers";
import type { Env } from "../env";
import { RUNNER_HEALTH_PATH, RUNNER_PORT } from "../../sdk/src/wire/protocol";
import { toCapacityError } from "./capacity-errors";
import { sha256Hex } from "../auth/crypto";

/**
 * Idle time after which @cloudflare/containers stops the container by itself.
 * The pool stops containers itself (after `scaledownWindowMs`, at most 1 h),
 * and a connected container never counts as idle (the pool's open WebSocket
 * is an in-flight request). So this only has to outlast the longest gap the
 * pool may leave a container unconnected on purpose, and exists to reclaim a
 * container whose pool lost track of it.
 */
const SLEEP_AFTER = "2h";
/**
 * How long one start waits for the platform to hand this DO an instance.
 * Longer than the library's 8 s because pools start many containers at once
 * and placement queues; short enough that a real shortage surfaces as a
 * CapacityError within seconds, for the backend and the pool to act on.
 */
const INSTANCE_GET_TIMEOUT_MS = 15_000;
/**
 * Total time (from the start call) for the runner to answer on its port. The
 * runner listens within a second of booting; this leaves room for a slow
 * first boot on a freshly provisioned host without letting a runner that
 * never listens hold a pool slot for long.
 */
const PORT_READY_TIMEOUT_MS = 30_000;
/**
 * Time between SIGTERM and SIGKILL on stop. The runner finishes or abandons
 * its inputs and exits within about 2 s of SIGTERM (SHUTDOWN_DEADLINE_MS in
 * sdk/src/runner/main.ts); this leaves slack for a loaded host, and anything
 * still alive after it is stuck.
 */
const STOP_GRACE_MS = 10_000;
/** How often a stop checks whether the container has exited: small against STOP_GRACE_MS. */
const EXIT_POLL_MS = 100;

/** Fingerprint of the env vars the running container was started with. */
const ENV_FINGERPRINT_KEY = "runner:env-fingerprint";
/** Why the container last went away (see `exitInfo`). */
const EXIT_KEY = "runner:exit";

export class Runner extends Container<Env> {
  override defaultPort = RUNNER_PORT;
  override sleepAfter = SLEEP_AFTER;
  /** User code and the SDK inside the container call out to the internet and to the Worker. */
  override enableInternet = true;
  /** Readiness probes hit the runner's health route ("host/path"). */
  override pingEndpoint = `runner${RUNNER_HEALTH_PATH}`;

  /**
   * Starts the container with `envVars` and resolves once the runner listens
   * on its port. Idempotent while it runs with the same env vars; throws
   * CapacityError when the platform has no room now. When it throws, no
   * container is left running.
   */
  async startRunner(envVars: Record<string, string>): Promise<void> {
    const fingerprint = await fingerprintOf(envVars);
    if (this.isRunning()) {
      const current = await this.ctx.storage.get<string>(ENV_FINGERPRINT_KEY);
      if (current !== fingerprint) throw new Error("runner is already running with different env vars; stop it first");
    } else {
      await this.ctx.storage.put(ENV_FINGERPRINT_KEY, fingerprint);
      await this.ctx.storage.delete(EXIT_KEY);
    }
    try {
      await this.startAndWaitForPorts({
        startOptions: { envVars },
        ports: RUNNER_PORT,
        cancellationOptions: { instanceGetTimeoutMS: INSTANCE_GET_TIMEOUT_MS, portReadyTimeoutMS: PORT_READY_TIMEOUT_MS },
      });
    } catch (error) {
      // A failed start leaves nothing running: a runner that never listened
      // would otherwise hold a max_instances slot until SLEEP_AFTER.
      if (this.isRunning()) await this.destroy().catch((e: unknown) => console.error("destroying a runner that failed to start:", e));
      throw toCapacityError(error) ?? error;
    }
  }

  /** Sends SIGTERM and, if the container is still running after a grace period, kills it. */
  async stopRunner(): Promise<void> {
    if (!this.isRunning()) return;
    await this.stop("SIGTERM");
    if (!(await this.exitsWithin(STOP_GRACE_MS))) await this.destroy();
  }

  /**
   * Why the container last went away (exit code or error), or null while it
   * runs (and before it ever has). A container can vanish without its exit
   * being seen here (`docker kill`, a lost host): one that was started and no
   * longer runs is reported gone too. The pool asks this of a busy container
   * that has gone silent, since its WebSocket may never close.
   */
  async exitInfo(): Promise<string | null> {
    const recorded = await this.ctx.storage.get<string>(EXIT_KEY);
    if (recorded) return recorded;
    if (!this.isRunning() && (await this.ctx.storage.get<string>(ENV_FINGERPRINT_KEY)) !== undefined) return "is no longer running";
    return null;
  }

  /** Proxies to the runner (the pool's WebSocket on /connect included), but never starts it: only `startRunner` knows its env vars. */
  override async fetch(request: Request): Promise<Response> {
    if (!this.isRunning()) return new Response("runner is not running", { status: 503 });
    return super.fetch(request);
  }

  override async onStop({ exitCode, reason }: StopParams): Promise<void> {
    const what = reason === "runtime_signal" ? `stopped by the platform (exit code ${exitCode})` : `exited with code ${exitCode}`;
    await this.ctx.storage.put(EXIT_KEY, what);
  }

  override async onError(error: unknown): Promise<unknown> {
    await this.ctx.storage.put(EXIT_KEY, `failed: ${error instanceof Error ? error.message : String(error)}`);
    return super.onError(error); // logs and rethrows
  }

  private isRunning(): boolean {
    return this.ctx.container?.running === true;
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.isRunning()) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, EXIT_POLL_MS));
    }
    return true;
  }
}

/** Env vars hold the container's secret, so storage keeps only a digest to compare against. */
async function fingerprintOf(envVars: Record<string, string>): Promise<string> {
  const canonical = JSON.stringify(
    Object.keys(envVars)
      .sort()
      .map((key) => [key, envVars[key]]),
  );
  return sha256Hex(canonical);
}

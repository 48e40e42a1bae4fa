// Production ComputeBackend (docs/architecture.md "Compute backends"): each container is a Runner Durable
// Object (src/compute/runner-container.ts) named by the container id.
import { ContainerFailedError, type ComputeBackend } from "./backend";
import type { Runner } from "./runner-container";
import { toCapacityError } from "./capacity-errors";
import { RUNNER_CONNECT_PATH } from "../../sdk/src/wire/protocol";

/** Time source, replaceable so tests can run the retry and throttle logic without waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface CloudflareBackendOptions {
  /** Sustained start calls per second this backend sends at most. */
  startsPerSecond: number;
  /** Start calls that may go out at once after a quiet spell. */
  startBurst: number;
  /** How long `start` keeps retrying capacity errors before giving up with CapacityError. */
  maxCapacityWaitMs: number;
  /** First wait after a capacity error; doubles per retry up to `maxBackoffMs`. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  clock: Clock;
}

const DEFAULTS: CloudflareBackendOptions = {
  // Cloudflare limits container starts per second per account ("you are
  // requesting too many containers per second"; the number is not
  // published). 10/s takes a pool to 100 containers in ~10 s and stays clear
  // of it in practice; a 429 that happens anyway is retried below.
  startsPerSecond: 10,
  // A small scale-up (the usual case) goes out without delay.
  startBurst: 5,
  // Beyond a minute a shortage is not a blip: hand it back to the pool, which
  // re-plans (it may no longer want this container) and retries later.
  maxCapacityWaitMs: 60_000,
  // Rate-limit errors clear within a second; a capacity error's own
  // retry-after (up to 10 s) takes precedence when longer.
  initialBackoffMs: 1_000,
  // Caps the doubling so a retry still lands inside maxCapacityWaitMs.
  maxBackoffMs: 16_000,
  clock: systemClock,
};

/** Longest slice of a refused connection's body quoted in the error. */
const MAX_ERROR_BODY_CHARS = 500;

/**
 * Token bucket spacing start calls: `burst` may go at once, then one per
 * 1/rate s. Tokens may go negative: each caller reserves its slot at once and
 * waits for it, so concurrent callers never race for the same token.
 */
export class StartThrottle {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = burst;
    this.refilledAt = clock.now();
  }

  async acquire(): Promise<void> {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.perSecond) / 1000);
    this.refilledAt = now;
    this.tokens -= 1;
    if (this.tokens < 0) await this.clock.sleep((-this.tokens * 1000) / this.perSecond);
  }
}

export class CloudflareBackend implements ComputeBackend {
  private readonly options: CloudflareBackendOptions;
  /** In memory, per backend (so per pool DO): pools together may exceed it, which the capacity retry absorbs. */
  private readonly throttle: StartThrottle;

  constructor(
    private readonly runners: DurableObjectNamespace<Runner>,
    options: Partial<CloudflareBackendOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.throttle = new StartThrottle(this.options.startsPerSecond, this.options.startBurst, this.options.clock);
  }

  async start(id: string, env: Record<string, string>): Promise<void> {
    const { clock, maxCapacityWaitMs, initialBackoffMs, maxBackoffMs } = this.options;
    const deadline = clock.now() + maxCapacityWaitMs;
    for (let backoff = initialBackoffMs; ; backoff = Math.min(backoff * 2, maxBackoffMs)) {
      await this.throttle.acquire();
      try {
        // A fresh stub per attempt: a stub that has thrown may be broken.
        await this.runner(id).startRunner(env);
        return;
      } catch (error) {
        const capacity = toCapacityError(error);
        if (!capacity) throw await this.classify(id, error);
        const wait = Math.max(backoff, capacity.retryAfterMs);
        if (clock.now() + wait > deadline) throw capacity;
        await clock.sleep(wait);
      }
    }
  }

  async stop(id: string): Promise<void> {
    await this.runner(id).stopRunner();
  }

  async connect(id: string, secret: string): Promise<WebSocket> {
    const response = await this.runner(id).fetch(
      new Request(`http://runner${RUNNER_CONNECT_PATH}`, {
        headers: { Upgrade: "websocket", Authorization: `Bearer ${secret}` },
      }),
    );
    const ws = response.webSocket;
    if (!ws) {
      const body = (await response.text().catch(() => "")).slice(0, MAX_ERROR_BODY_CHARS);
      throw new Error(`runner of container ${id} refused the connection: HTTP ${response.status} ${body}`);
    }
    ws.accept();
    return ws;
  }

  async describeExit(id: string): Promise<string | null> {
    return this.runner(id).exitInfo();
  }

  /**
   * A failed start is the container's own failure when its process exited or
   * crashed while starting (the Runner records why); anything else (RPC
   * errors, the platform's own) stays the platform's.
   */
  private async classify(id: string, error: unknown): Promise<unknown> {
    const message = error instanceof Error ? error.message : String(error);
    const exit = await this.runner(id)
      .exitInfo()
      .catch(() => null);
    if (isContainerFailure(message) || (exit !== null && isContainerFailure(exit))) {
      return new ContainerFailedError(`container ${id} failed to start: ${exit ?? message}`);
    }
    return error;
  }

  private runner(id: string): DurableObjectStub<Runner> {
    return this.runners.get(this.runners.idFromName(id));
  }
}

/**
 * Messages of @cloudflare/containers (0.3.x) and the Runner's exit record
 * that mean the container's process itself failed: it exited, crashed while
 * its port was checked, or never listened.
 */
const CONTAINER_FAILURE = /^exited with code|container exited before we could determine|container crashed while checking for ports|failed to verify port/i;

export function isContainerFailure(message: string): boolean {
  return CONTAINER_FAILURE.test(message.replace(/^failed: /, ""));
}

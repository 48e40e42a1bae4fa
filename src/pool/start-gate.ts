// When a pool may start containers (docs/architecture.md "Limits and backpressure"): pure policy, no I/O.
// Only a container's own failures (a bundle that throws on import, a process
// that exits before it is ready, startupTimeoutMs) count toward the breaker
// that fails waiting inputs; the platform's (no capacity, host unreachable,
// connection dropped) only hold starts back for a while and never fail inputs.
import type { StartsHeldBack } from "../../sdk/src/wire/api";
import { ContainerFailedError } from "../compute/backend";
import { toCapacityError } from "../compute/capacity-errors";
import { MAX_START_FAILURES } from "./limits";

/** After the breaker trips, starts wait this long, so a broken bundle does not loop. */
export const START_FAILURE_COOLDOWN_MS = 30_000;
/** First wait after a platform error; doubles per consecutive error up to the cap. */
export const PLATFORM_BACKOFF_INITIAL_MS = 1_000;
/** Caps the doubling: a platform that comes back is used again within this long. */
export const PLATFORM_BACKOFF_MAX_MS = 30_000;
/**
 * Start requests one pool has out at once. A burst asks for containers this
 * many at a time instead of sending hundreds of requests a platform with no
 * room would refuse; the next go out as these finish.
 */
export const MAX_STARTS_IN_FLIGHT = 8;

export interface StartGateOptions {
  /** Uniform in [0, 1): spreads the retries of pools that failed together. */
  random: () => number;
  maxFailures: number;
  cooldownMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  maxStartsInFlight: number;
}

const DEFAULTS: StartGateOptions = {
  random: Math.random,
  maxFailures: MAX_START_FAILURES,
  cooldownMs: START_FAILURE_COOLDOWN_MS,
  initialBackoffMs: PLATFORM_BACKOFF_INITIAL_MS,
  maxBackoffMs: PLATFORM_BACKOFF_MAX_MS,
  maxStartsInFlight: MAX_STARTS_IN_FLIGHT,
};

export class StartGate {
  private readonly options: StartGateOptions;
  private containerFailures = 0;
  private platformErrors = 0;
  private hold: StartsHeldBack | null = null;
  private inFlight = 0;

  constructor(options: Partial<StartGateOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** How many containers may be asked for now, of `wanted`. */
  allowed(wanted: number, nowMs: number): number {
    if (this.heldBack(nowMs)) return 0;
    return Math.max(0, Math.min(wanted, this.options.maxStartsInFlight - this.inFlight));
  }

  /** Why starts are held back and until when, or null when they are not. */
  heldBack(nowMs: number): StartsHeldBack | null {
    return this.hold && nowMs < this.hold.untilMs ? this.hold : null;
  }

  /** A start request went out. */
  requested(): void {
    this.inFlight++;
  }

  /** A start request came back (either way): its slot is free. */
  settled(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  /** The platform started a container: whatever held it back is over. */
  platformAccepted(): void {
    this.platformErrors = 0;
    if (this.hold?.reason !== "start_failures") this.hold = null;
  }

  /** A container said ready: the bundle starts, so earlier failures are forgiven. */
  ready(): void {
    this.containerFailures = 0;
    this.platformAccepted();
    this.hold = null;
  }

  /**
   * The platform had no room (wait what it asks), or failed to start or
   * reach a container (back off exponentially, with jitter). Returns the line
   * for the pool's log, or null when this only repeats the hold in place.
   */
  platformFailed(failure: PlatformFailure, nowMs: number): string | null {
    if (failure.kind === "capacity") {
      const repeated = this.heldBack(nowMs)?.reason === "capacity";
      this.holdUntil("capacity", failure.message, nowMs + failure.retryAfterMs);
      return repeated ? null : `no room for containers, retrying in ${failure.retryAfterMs} ms: ${failure.message}`;
    }
    const { initialBackoffMs, maxBackoffMs, random } = this.options;
    const ceiling = Math.min(maxBackoffMs, initialBackoffMs * 2 ** this.platformErrors);
    this.platformErrors++;
    // Half fixed, half random: never retries at once, and pools hit together spread out.
    const waitMs = Math.round(ceiling / 2 + random() * (ceiling / 2));
    this.holdUntil("platform_error", failure.message, nowMs + waitMs);
    return `starting a container failed (platform error), retrying in ${waitMs} ms: ${failure.message}`;
  }

  /**
   * The container itself failed to start. Returns true when this failure
   * trips the breaker: the caller fails what waits, and starts pause for the
   * cooldown before the count begins again.
   */
  containerFailed(message: string, nowMs: number): boolean {
    this.containerFailures++;
    if (this.containerFailures < this.options.maxFailures) return false;
    this.containerFailures = 0;
    this.hold = { reason: "start_failures", message, untilMs: nowMs + this.options.cooldownMs };
    return true;
  }

  /** A new deployment: its bundle gets a fresh start. */
  reset(): void {
    this.containerFailures = 0;
    this.platformErrors = 0;
    this.hold = null;
  }

  private holdUntil(reason: StartsHeldBack["reason"], message: string, untilMs: number): void {
    if (this.hold && this.hold.untilMs > untilMs) return;
    this.hold = { reason, message, untilMs };
  }
}

export type PlatformFailure = { kind: "capacity"; message: string; retryAfterMs: number } | { kind: "platform"; message: string };
export type StartFailure = PlatformFailure | { kind: "container"; message: string };

/**
 * Whose failure a failed start or connect is. The container's own (its
 * process exited before it was ready) counts toward the breaker; the
 * platform's (no room, host unreachable, a dropped connection) only backs
 * off. `describeExit` must be asked before the container is stopped.
 */
export async function classifyStartError(error: unknown, describeExit: () => Promise<string | null>): Promise<StartFailure> {
  const message = error instanceof Error ? error.message : String(error);
  const capacity = toCapacityError(error);
  if (capacity) return { kind: "capacity", message: capacity.message, retryAfterMs: capacity.retryAfterMs };
  if (error instanceof ContainerFailedError) return { kind: "container", message };
  // Connecting failed because the process is gone: the container's doing too.
  const exit = await describeExit().catch(() => null);
  return exit ? { kind: "container", message: `${message}; the container ${exit}` } : { kind: "platform", message };
}

// Recognising Cloudflare Containers' "no room right now" errors (docs/architecture.md
// "Compute backends") and carrying them across the Runner DO's RPC boundary.
import { CapacityError } from "./backend";

/**
 * Retry-after for "no container instance": every pre-warmed instance near
 * this DO is taken or still provisioning; provisioning takes seconds.
 */
const NO_INSTANCE_RETRY_MS = 5_000;
/**
 * Retry-after for "maximum number of running container instances exceeded"
 * (max_instances in wrangler.toml): room only appears once some pool stops a
 * container, which happens on scale-down timescales, so wait longer.
 */
const MAX_INSTANCES_RETRY_MS = 10_000;
/** Retry-after for the start-rate limit (HTTP 429): the limit is per second. */
const RATE_LIMIT_RETRY_MS = 1_000;

interface Signature {
  pattern: RegExp;
  retryAfterMs: number;
}

// "You are requesting too many containers per second", or a bare HTTP 429.
const RATE_LIMITED: Signature = { pattern: /too many containers|too many requests|\b429\b/i, retryAfterMs: RATE_LIMIT_RETRY_MS };

/** Platform messages, matched case-insensitively anywhere in an error's message. */
const SIGNATURES: readonly Signature[] = [
  // "There is no container instance that can be provided to this Durable Object"
  // (thrown by the runtime) and "There is no Container instance available at
  // this time" (the 503 body @cloudflare/containers answers with).
  { pattern: /no container instance/i, retryAfterMs: NO_INSTANCE_RETRY_MS },
  { pattern: /maximum number of running container instances exceeded/i, retryAfterMs: MAX_INSTANCES_RETRY_MS },
  RATE_LIMITED,
];

/** Bounds the walk along `cause` links (a cyclic chain would loop forever); real chains are one or two deep. */
const MAX_CAUSE_DEPTH = 8;

/**
 * Workers RPC keeps only an error's message (not its class or own
 * properties), so a CapacityError thrown in the Runner DO reaches the pool as
 * a plain Error. Its message therefore carries this marker, from which the
 * caller rebuilds it.
 */
const RPC_MARKER = /\(capacity; retry after (\d+) ms\)/;

/** A CapacityError whose message survives RPC and can be rebuilt by `toCapacityError`. */
export function capacityError(reason: string, retryAfterMs: number): CapacityError {
  return new CapacityError(`${reason} (capacity; retry after ${retryAfterMs} ms)`, retryAfterMs);
}

/**
 * The CapacityError that `error` stands for, or null when it is some other
 * failure. Accepts CapacityErrors, their RPC-flattened form, and Cloudflare's
 * own capacity errors (also when wrapped as another error's cause, or when
 * they come from another realm and fail `instanceof Error`).
 */
export function toCapacityError(error: unknown): CapacityError | null {
  if (error instanceof CapacityError) return error;
  const message = messageOf(error);
  const marked = RPC_MARKER.exec(message);
  if (marked) return new CapacityError(message, Number(marked[1]));
  let current = error;
  for (let depth = 0; current != null && depth < MAX_CAUSE_DEPTH; depth++) {
    const signature = signatureOf(current);
    if (signature) return capacityError(messageOf(current), signature.retryAfterMs);
    current = typeof current === "object" ? (current as { cause?: unknown }).cause : undefined;
  }
  return null;
}

function signatureOf(error: unknown): Signature | undefined {
  const text = messageOf(error);
  return SIGNATURES.find((s) => s.pattern.test(text)) ?? (statusOf(error) === 429 ? RATE_LIMITED : undefined);
}

function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null | undefined)?.message;
  return typeof message === "string" ? message : String(error);
}

function statusOf(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { status?: unknown }).status : undefined;
}

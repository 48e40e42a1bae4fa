// Per-token request rate (docs/architecture.md "Limits and backpressure"): a token bucket per token,
// kept in this isolate's memory. Each isolate limits on its own, so the
// platform-wide rate a token gets is a multiple of this; the point is to
// stop a runaway client loop from hammering the API and the pools behind
// it, not exact metering. Over the limit the API answers 429
// RESOURCE_EXHAUSTED with Retry-After, which the SDK waits out where a
// request is safe to repeat.
import type { Env } from "../env";
import { ApiError } from "../control/errors";

export interface RateLimit {
  /** Tokens added per second: the sustained request rate. */
  perSecond: number;
  /** Bucket size: how many requests may come at once after a quiet spell. */
  burst: number;
}

/**
 * Generous defaults: an SDK map sends a few requests a second, but
 * `FunctionCall.gather` over thousands of spawned calls reads each one,
 * thousands of concurrent `remote()`s each start a call at once, and a plain
 * loop of `await f.remote(x)` runs at a few hundred a second.
 */
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 1_000, burst: 10_000 };

/** Buckets kept per isolate; past this the fullest (least recently used) are dropped, which only ever forgives. */
const MAX_BUCKETS = 10_000;

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(private readonly limit: RateLimit) {}

  /** Takes one request's token from `key`'s bucket at time `nowMs`. */
  take(key: string, nowMs: number): Admission {
    const { perSecond, burst } = this.limit;
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key); // re-inserted below: Map order is recency order
      bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, nowMs - bucket.atMs) * perSecond) / 1_000);
      bucket.atMs = nowMs;
    } else {
      bucket = { tokens: burst, atMs: nowMs };
      while (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) * 1_000) / perSecond) };
  }
}

function positive(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return raw !== undefined && raw !== "" && Number.isFinite(n) && n > 0 ? n : fallback;
}

/** The limit in effect: SQUALL_RATE_LIMIT_PER_SECOND / SQUALL_RATE_LIMIT_BURST when set, else the defaults. */
export function rateLimitOf(env: Pick<Env, "SQUALL_RATE_LIMIT_PER_SECOND" | "SQUALL_RATE_LIMIT_BURST">): RateLimit {
  return {
    perSecond: positive(env.SQUALL_RATE_LIMIT_PER_SECOND, DEFAULT_RATE_LIMIT.perSecond),
    burst: positive(env.SQUALL_RATE_LIMIT_BURST, DEFAULT_RATE_LIMIT.burst),
  };
}

let current: { key: string; buckets: TokenBuckets } | null = null;

/** This isolate's buckets for the limit in effect (a changed limit starts afresh). */
export function bucketsFor(limit: RateLimit): TokenBuckets {
  const key = `${limit.perSecond}/${limit.burst}`;
  if (!current || current.key !== key) current = { key, buckets: new TokenBuckets(limit) };
  return current.buckets;
}

/**
 * Takes one request from the token's bucket (by the token's hash), or throws
 * the 429 RESOURCE_EXHAUSTED every route and call channel answers over the limit.
 */
export function admitRequest(env: Pick<Env, "SQUALL_RATE_LIMIT_PER_SECOND" | "SQUALL_RATE_LIMIT_BURST">, tokenHash: string, nowMs: number): void {
  const limit = rateLimitOf(env);
  const admitted = bucketsFor(limit).take(tokenHash, nowMs);
  if (admitted.ok) return;
  throw new ApiError(
    "RESOURCE_EXHAUSTED",
    `too many requests with this token: the limit is ${limit.perSecond} a second (bursts of ${limit.burst}); retry after ${admitted.retryAfterMs} ms`,
    admitted.retryAfterMs,
  );
}

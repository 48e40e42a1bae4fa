// One HTTP client for the API in wire/api.ts: bearer auth, JSON control
// routes, CBOR call routes, and every error response mapped to a Squall error.
import { CBOR_CONTENT_TYPE, type ErrorBody } from "./wire/api.js";
import { pathOf, type PathParamName, type PathParams, type RequestOf, type ResponseOf, type Route } from "./wire/routes.js";
import { decode, encode } from "./wire/serialization.js";
import { RemoteError, ResourceExhaustedError, errorFromApi } from "./errors.js";
import { urlTransport, type Transport, type TransportResponse } from "./transport.js";

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  cbor?: unknown;
  signal?: AbortSignal;
}

// Errors worth retrying for an idempotent request: the platform was
// unreachable, the connection dropped, or it answered 5xx.
const transientErrors = new WeakSet<Error>();

function isTransient(err: unknown): boolean {
  return err instanceof Error && transientErrors.has(err);
}

function transient<E extends Error>(err: E): E {
  transientErrors.add(err);
  return err;
}

/** What a request on a route of the table (wire/routes.ts) needs: its path parameters, query and body. */
export type RouteArgs<R extends Route> = (PathParamName<R["path"]> extends never ? { params?: undefined } : { params: PathParams<R["path"]> }) &
  ([RequestOf<R>] extends [never] ? { body?: undefined } : { body: RequestOf<R> }) & {
    query?: RequestOptions["query"];
    signal?: AbortSignal;
  };

export class Http {
  constructor(
    readonly url: string,
    private readonly token: string,
    // A Client passes its connection's transport (a service binding's fetch, say); tools talking to the API directly use the default one.
    private readonly transport: Transport = urlTransport(),
  ) {}

  /** Sends a request on a route of the table: its method, its path with the parameters filled in, its body in the route's encoding. */
  send<R extends Route>(route: R, args: RouteArgs<R>): Promise<ResponseOf<R>> {
    const path = pathOf(route, (args.params ?? {}) as PathParams<R["path"]>);
    const body = args.body === undefined ? {} : route.encoding === "cbor" ? { cbor: args.body } : { json: args.body };
    return this.request<ResponseOf<R>>(route.method, path, { ...body, query: args.query, signal: args.signal });
  }

  private async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const target = new URL(this.url + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) target.searchParams.set(k, String(v));
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: `${CBOR_CONTENT_TYPE}, application/json` };
    let body: Uint8Array | string | undefined;
    if (options.cbor !== undefined) {
      headers["content-type"] = CBOR_CONTENT_TYPE;
      body = encode(options.cbor);
    } else if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.json);
    }
    let res: TransportResponse;
    const signal = requestSignal(options.signal);
    try {
      res = await this.transport({ method, url: target, headers, body, signal: signal.signal });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw transient(new RemoteError(`could not reach Squall at ${this.url}: ${describeFetchError(err)}`));
    } finally {
      signal.release();
    }
    const raw = res.body;
    if (res.status < 200 || res.status > 299) throw this.errorOf(res, raw);
    if (raw.byteLength === 0) return undefined as T;
    if ((res.header("content-type") ?? "").startsWith(CBOR_CONTENT_TYPE)) return decode<T>(raw);
    return JSON.parse(new TextDecoder().decode(raw)) as T;
  }

  private errorOf(res: TransportResponse, raw: Uint8Array): Error {
    let body: Partial<ErrorBody> = {};
    try {
      body = JSON.parse(new TextDecoder().decode(raw)) as Partial<ErrorBody>;
    } catch {
      // Not our JSON error shape (a proxy's HTML page, say): the status decides.
    }
    const message = body.error?.message ?? (res.statusText || `HTTP ${res.status}`);
    const retryAfterSeconds = Number(res.header("retry-after"));
    const retryAfterMs = body.error?.retryAfterMs ?? (retryAfterSeconds > 0 ? retryAfterSeconds * 1_000 : undefined);
    const err = errorFromApi(res.status, body.error?.code, message, retryAfterMs);
    return res.status >= 500 ? transient(err) : err;
  }
}

/**
 * A signal for one request that aborts with `parent`, tied to it only while
 * the request is in flight. A map's signal is shared by thousands of
 * requests, and fetch leaves its listener on the signal it is given until
 * the request is garbage-collected, so handing it over directly piles
 * listeners up on it (Node's MaxListenersExceededWarning, and memory).
 */
export function requestSignal(parent: AbortSignal | undefined): { signal: AbortSignal | undefined; release(): void } {
  if (!parent) return { signal: undefined, release: () => undefined };
  const own = new AbortController();
  if (parent.aborted) own.abort(parent.reason);
  const onAbort = (): void => own.abort(parent.reason);
  parent.addEventListener("abort", onAbort, { once: true });
  return { signal: own.signal, release: () => parent.removeEventListener("abort", onAbort) };
}

/** fetch puts the system error (ECONNREFUSED…) in `cause`; node:http throws it directly. */
function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? (err as { code?: string }).code ?? cause?.message ?? (err as Error).message ?? String(err);
}

/** Resolves after `ms`, or rejects at once when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export interface RetryPolicy {
  /** Wait out 429 RESOURCE_EXHAUSTED (for as long as it lasts) and send again. */
  waitWhenExhausted?: boolean;
  /** Retry network failures and 5xx with backoff (only for requests safe to repeat). */
  retryTransient?: boolean;
  signal?: AbortSignal;
}

const BACKOFF = { firstMs: 100, maxMs: 5_000, attempts: 10 };

/** Runs a request again on the failures the policy allows. */
export async function withRetries<T>(send: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  let failures = 0;
  for (;;) {
    try {
      return await send();
    } catch (err) {
      if (policy.signal?.aborted) throw err;
      if (policy.waitWhenExhausted && err instanceof ResourceExhaustedError) {
        await sleep(err.retryAfterMs, policy.signal);
        continue;
      }
      if (policy.retryTransient && isTransient(err) && ++failures < BACKOFF.attempts) {
        await sleep(Math.min(BACKOFF.maxMs, BACKOFF.firstMs * 2 ** (failures - 1)), policy.signal);
        continue;
      }
      throw err;
    }
  }
}

// The Client keeps its Http here rather than on a public property, so the
// public Client type shows only the product API.
const httpOfOwner = new WeakMap<object, Http>();

export function attachHttp(owner: object, http: Http): void {
  httpOfOwner.set(owner, http);
}

export function httpOf(owner: object): Http {
  const http = httpOfOwner.get(owner);
  if (!http) throw new TypeError("not a squall Client");
  return http;
}

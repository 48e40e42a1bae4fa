// How one HTTP request reaches the platform. Http (http.ts) speaks in these
// terms, so the transport can be fetch (a Worker, a service binding, a
// browser) or Node's own http module (node-transport.ts, which the `squall`
// entry installs: a fraction of fetch's CPU per request in Node).

export interface TransportRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: Uint8Array | string | undefined;
  signal: AbortSignal | undefined;
}

export interface TransportResponse {
  status: number;
  statusText: string;
  /** A response header's value (name in lower case), or null. */
  header(name: string): string | null;
  body: Uint8Array;
}

/** Sends one request and reads its whole response; rejects when the platform cannot be reached or the signal aborts. */
export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

export type FetchLike = (input: URL, init: RequestInit) => Promise<Response>;

/** A transport over a fetch function (the global one, or a service binding's). */
export function fetchTransport(fetch: FetchLike): Transport {
  return async ({ method, url, headers, body, signal }) => {
    const res = await fetch(url, { method, headers, body: body as BodyInit | undefined, signal });
    const bytes = new Uint8Array(await res.arrayBuffer());
    return { status: res.status, statusText: res.statusText, header: (name) => res.headers.get(name), body: bytes };
  };
}

// The global fetch is called unbound: workerd refuses it called as a method of another object.
let defaultTransport: Transport = fetchTransport((input, init) => fetch(input, init));

/** The transport for a platform reached by URL. */
export function urlTransport(): Transport {
  return defaultTransport;
}

/** Sets the transport for platforms reached by URL (the Node entry installs Node's http module). */
export function setUrlTransport(transport: Transport): void {
  defaultTransport = transport;
}

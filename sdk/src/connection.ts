// How a Client reaches the platform, without any Node module: a URL over
// fetch, or a Worker service binding. Finding a URL and token the Node way
// (environment, ~/.squall.toml) lives in config.ts, which only the `squall`
// entry wires in (setConnectionDefaults), so `squall/client` runs in any Worker.
import { InvalidError } from "./errors.js";
import { fetchTransport, urlTransport, type Transport } from "./transport.js";

/**
 * A Cloudflare service binding (env.SQUALL), or anything with its fetch:
 * structurally typed so the SDK needs no Workers types.
 */
export interface ServiceBinding {
  fetch(input: Request | string | URL, init?: RequestInit): Promise<Response>;
}

export interface ConnectionOptions {
  /** The platform's URL. */
  url?: string;
  /** A service binding to the platform's Worker, instead of a URL. */
  binding?: ServiceBinding;
  /** A workspace token. */
  token?: string;
}

export interface Connection {
  url: string;
  token: string;
  transport: Transport;
  /** Whether the platform is reached by URL, so `.remote()` may use call channels (channel.ts); not through a binding. */
  byUrl: boolean;
}

/** Where requests through a binding appear to go: the binding ignores the origin, the platform reads only the path. */
export const BINDING_ORIGIN = "https://squall.binding";

type Defaults = (options: { url?: string; token?: string }) => { url: string; token: string };

let defaults: Defaults | null = null;

/** Sets how a Client with no url or token finds them (the Node entry: environment, then ~/.squall.toml). */
export function setConnectionDefaults(resolve: Defaults): void {
  defaults = resolve;
}

export function resolveConnection(options: ConnectionOptions): Connection {
  const { url, binding, token } = options;
  if (url !== undefined && binding !== undefined) throw new InvalidError("Client options: give either url or binding, not both");
  if (binding !== undefined) {
    if (binding === null || typeof (binding as Partial<ServiceBinding>).fetch !== "function") {
      throw new InvalidError(`Client options: binding must be a service binding (an object with a fetch method, such as env.SQUALL), got ${describe(binding)}`);
    }
    if (typeof token !== "string" || token === "") throw new InvalidError("Client options: a binding needs a token (a workspace token string)");
    return { url: BINDING_ORIGIN, token, transport: fetchTransport((input, init) => binding.fetch(input, init)), byUrl: false };
  }
  if (url !== undefined && (typeof url !== "string" || !URL.canParse(url))) {
    throw new InvalidError(`Client options: url must be an absolute URL such as https://squall.example.com, got ${describe(url)}`);
  }
  let resolved: { url: string; token: string };
  if (defaults) resolved = defaults({ url, token });
  else if (url === undefined) throw new InvalidError("Client options: give url and token, or binding and token (no config file is read here)");
  else if (typeof token !== "string" || token === "") throw new InvalidError(`Client options: no token for ${url} (give token, a workspace token string)`);
  else resolved = { url, token };
  return { url: resolved.url.replace(/\/+$/, ""), token: resolved.token, transport: urlTransport(), byUrl: true };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object") return `an object with keys [${Object.keys(value).join(", ")}]`;
  return typeof value;
}

// A Worker that calls a deployed Squall function on each request:
// GET /?name=Ada answers "Hello, Ada!" from greet() in app worker-client.
// `squall/client` holds no Node module: no nodejs_compat flag is needed.
import { Client, SquallError, type ServiceBinding } from "squall/client";

export interface Env {
  /** A service binding to the Squall platform's Worker, when it runs in your account. */
  SQUALL?: ServiceBinding;
  /** Otherwise, the platform's URL. */
  SQUALL_URL?: string;
  /** A workspace token (`wrangler secret put SQUALL_TOKEN`). */
  SQUALL_TOKEN: string;
}

/** The binding when there is one (no public hop), else the URL. */
export function clientOf(env: Env): Client {
  return env.SQUALL ? new Client({ binding: env.SQUALL, token: env.SQUALL_TOKEN }) : new Client({ url: env.SQUALL_URL, token: env.SQUALL_TOKEN });
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const name = new URL(request.url).searchParams.get("name") ?? "world";
    try {
      const greet = await clientOf(env).functions.fromName<[string], string>("worker-client", "greet");
      return new Response(await greet.remote(name));
    } catch (err) {
      // Squall's errors name what went wrong (a missing function, a bad token, the function's own error).
      if (err instanceof SquallError) return new Response(`${err.name}: ${err.message}`, { status: 502 });
      throw err;
    }
  },
};

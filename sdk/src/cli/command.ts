// What every command gets: its arguments, where to print, and a client built
// from --url/--token, else SQUALL_URL/SQUALL_TOKEN, else the active profile.
import { Client } from "../client.js";
import { httpOf, type Http } from "../http.js";
import { resolveClientConfig, type ClientConfig } from "../config.js";
import type { OptionSpec, ParsedArgs } from "./args.js";
import type { Io } from "./io.js";

export interface Context {
  args: string[];
  values: ParsedArgs["values"];
  json: boolean;
  io: Io;
  clientConfig(): ClientConfig;
  client(): Client;
  http(): Http;
}

export interface Command {
  /** The words that name it: "deploy", "app list". */
  path: string;
  /** Its positional arguments, as shown in help: "FILE", "APP FN". */
  args: string;
  summary: string;
  options?: Record<string, OptionSpec>;
  /** How many positional arguments it takes: [min, max]. */
  arity: [number, number];
  /** Resolves to the exit code (nothing: 0). */
  run(ctx: Context): Promise<number | void>;
}

export function makeContext(parsed: ParsedArgs, io: Io): Context {
  let client: Client | null = null;
  const overrides = {
    url: typeof parsed.values.url === "string" ? parsed.values.url : undefined,
    token: typeof parsed.values.token === "string" ? parsed.values.token : undefined,
  };
  return {
    args: parsed.positionals,
    values: parsed.values,
    json: parsed.values.json === true,
    io,
    clientConfig: () => resolveClientConfig(overrides),
    client: () => (client ??= new Client(overrides)),
    http() {
      return httpOf(this.client());
    },
  };
}

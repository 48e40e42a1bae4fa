// Command-line options: node's own parseArgs, with errors that name the command.
import { parseArgs } from "node:util";
import { UsageError } from "./io.js";

export interface OptionSpec {
  type: "string" | "boolean";
  /** Shown in help; for string options, name the value: "N", "APP", … */
  help: string;
  value?: string;
}

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: "boolean", help: "print machine-readable JSON" },
  url: { type: "string", value: "URL", help: "the platform's URL (default: SQUALL_URL, then the active profile in ~/.squall.toml)" },
  token: { type: "string", value: "TOKEN", help: "a workspace token (default: SQUALL_TOKEN, then the active profile)" },
  help: { type: "boolean", help: "show this help" },
};

export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

export function parse(argv: string[], options: Record<string, OptionSpec>, command: string): ParsedArgs {
  const all = { ...GLOBAL_OPTIONS, ...options };
  try {
    const { positionals, values } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(Object.entries(all).map(([name, spec]) => [name, { type: spec.type }])),
    });
    return { positionals, values };
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split(". ")[0]} (see squall ${command} --help)`);
  }
}

/** A whole, non-negative number option. */
export function intOption(values: ParsedArgs["values"], name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isInteger(n) || n < 0) {
    throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** A JSON option (e.g. --params '{"modelVersion":"3.5"}'). */
export function jsonOption(values: ParsedArgs["values"], name: string): unknown {
  const raw = values[name];
  if (typeof raw !== "string") return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch (err) {
    throw new UsageError(`--${name} must be JSON: ${(err as Error).message}`);
  }
}

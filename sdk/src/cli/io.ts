// Where the CLI writes, so tests can capture it, and the small formatting helpers every command shares.
import { inspect } from "node:util";

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Present when stderr is a terminal: raw text (no newline), so a status line can be redrawn in place. */
  redraw?: (text: string) => void;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text + "\n"),
  err: (text) => process.stderr.write(text + "\n"),
  redraw: process.stderr.isTTY ? (text) => process.stderr.write(text) : undefined,
};

/** An expected failure: printed as one `error: …` line, no stack. */
export class CliError extends Error {
  override name = "CliError";
}

/** A usage mistake (bad arguments, a file with no app, …). */
export class UsageError extends CliError {
  override name = "UsageError";
}

/** Left-aligned columns, two spaces apart. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  return [line(headers), ...rows.map(line)].join("\n");
}

/** JSON of a result that may hold CBOR-only values (BigInt, Map, Set, bytes, undefined). */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v === "bigint") return v.toString();
      if (v instanceof Map) return Object.fromEntries(v);
      if (v instanceof Set) return [...v];
      if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
      return v;
    },
    2,
  );
}

export function show(value: unknown): string {
  return typeof value === "string" ? value : inspect(value, { depth: null, colors: false });
}

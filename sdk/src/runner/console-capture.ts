// Sends what user code prints to the pool, attributed to the input that
// printed it. Console output still reaches the process's own stdout/stderr
// (the container's logs); the pool gets a copy so `squall logs` can show it.
import { AsyncLocalStorage } from "node:async_hooks";
import { format } from "node:util";
import type { LogLine } from "../wire/protocol.js";

/** The id of the input whose code is running; async work it starts inherits it. */
export const inputContext = new AsyncLocalStorage<number>();

const STREAM_OF = { log: "stdout", info: "stdout", debug: "stdout", warn: "stderr", error: "stderr" } as const;

/**
 * Wraps console.log/info/debug/warn/error once per process. One console call
 * is one LogLine (a logged stack trace stays together).
 */
export function captureConsole(sink: (line: LogLine) => void): void {
  for (const method of Object.keys(STREAM_OF) as (keyof typeof STREAM_OF)[]) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]): void => {
      original(...args);
      const inputId = inputContext.getStore();
      const line: LogLine = { stream: STREAM_OF[method], text: format(...args), ts: Date.now() };
      if (inputId !== undefined) line.inputId = inputId;
      sink(line);
    };
  }
}

/** Writes the runner's own diagnostics, bypassing the capture (they are not user output). */
export function runnerLog(message: string): void {
  process.stderr.write(`[squall runner] ${message}\n`);
}

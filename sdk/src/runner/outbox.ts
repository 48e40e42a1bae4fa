// Batches what the runner sends back (outputs and log lines): at most one
// flush per event-loop turn, however many inputs finish in it, and a buffer
// that holds results while no pool is connected.
import type { LogLine, RunnerOutput, RunnerToPool } from "../wire/protocol.js";
import { FRAME_PAYLOAD_BUDGET, chunkBySize, truncateUtf8 } from "./frames.js";
import { runnerLog } from "./console-capture.js";

/** Delivers one message to the connected pool; rejects if it could not be written. */
export type Send = (message: RunnerToPool) => Promise<void>;

/** Longest log line kept; longer ones are cut so one runaway print cannot flood the pool. */
export const MAX_LOG_LINE_BYTES = 8 * 1024;
/** Log lines kept between two flushes; the rest are counted and reported as dropped. */
export const MAX_LOG_LINES_PER_FLUSH = 1_000;
/** Results held while no pool is connected; beyond this the oldest go (the pool re-runs inputs it never hears about). */
export const MAX_BUFFERED_OUTPUT_BYTES = 64 * 1024 * 1024;
/** CBOR overhead per item in a frame, for sizing frames without encoding twice. */
const ITEM_OVERHEAD_BYTES = 64;

export class Outbox {
  private outputs: RunnerOutput[] = [];
  private outputBytes = 0;
  private logs: LogLine[] = [];
  private droppedLogs = 0;
  private scheduled = false;
  private send: Send | null = null;

  /** Connects (or with null, disconnects) the pool; buffered items go out on connect. */
  setSend(send: Send | null): void {
    this.send = send;
    if (send) this.flushSoon();
  }

  addOutput(output: RunnerOutput): void {
    this.outputs.push(output);
    this.outputBytes += output.value.byteLength;
    while (this.outputBytes > MAX_BUFFERED_OUTPUT_BYTES && this.outputs.length > 1) {
      const dropped = this.outputs.shift()!;
      this.outputBytes -= dropped.value.byteLength;
      runnerLog(`no pool connected and the output buffer is full: dropped the output of input ${dropped.id}`);
    }
    this.flushSoon();
  }

  addLog(line: LogLine): void {
    if (this.logs.length >= MAX_LOG_LINES_PER_FLUSH) {
      this.droppedLogs++;
      return;
    }
    this.logs.push({ ...line, text: truncateUtf8(line.text, MAX_LOG_LINE_BYTES) });
    this.flushSoon();
  }

  /** Forgets unsent outputs of these inputs (they were cancelled). */
  discardOutputs(ids: ReadonlySet<number>): void {
    this.outputs = this.outputs.filter((o) => {
      if (!ids.has(o.id)) return true;
      this.outputBytes -= o.value.byteLength;
      return false;
    });
  }

  private flushSoon(): void {
    if (this.scheduled || !this.send) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  /** Sends everything buffered, in frames under the size limit; logs go before the outputs they led to. */
  async flush(): Promise<void> {
    const send = this.send;
    if (!send) return;
    const logs = this.takeLogs();
    const outputs = this.outputs;
    this.outputs = [];
    this.outputBytes = 0;
    try {
      for (const lines of chunkBySize(logs, (l) => Buffer.byteLength(l.text) + ITEM_OVERHEAD_BYTES, FRAME_PAYLOAD_BUDGET)) {
        await send({ t: "logs", lines });
      }
    } catch {
      // The connection went away: log lines are best effort, outputs below are kept.
    }
    const chunks = chunkBySize(outputs, (o) => o.value.byteLength + ITEM_OVERHEAD_BYTES, FRAME_PAYLOAD_BUDGET);
    for (let i = 0; i < chunks.length; i++) {
      try {
        await send({ t: "outputs", outputs: chunks[i] });
      } catch {
        // Keep the unsent outputs, in order, ahead of newer ones for the next connection.
        const unsent = chunks.slice(i).flat();
        this.outputs = [...unsent, ...this.outputs];
        this.outputBytes = this.outputs.reduce((n, o) => n + o.value.byteLength, 0);
        return;
      }
    }
  }

  private takeLogs(): LogLine[] {
    const logs = this.logs;
    this.logs = [];
    if (this.droppedLogs > 0) {
      logs.push({
        stream: "stderr",
        text: `[squall] dropped ${this.droppedLogs} log lines: more than ${MAX_LOG_LINES_PER_FLUSH} were printed between two sends`,
        ts: Date.now(),
      });
      this.droppedLogs = 0;
    }
    return logs;
  }
}

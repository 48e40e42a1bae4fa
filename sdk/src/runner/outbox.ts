// Batches what the runner sends back (outputs and log lines): at most one
// flush per event-loop turn, however many inputs finish in it, and a buffer
// that holds results while no pool is connected. A sent output is kept until
// the pool acknowledges it: a frame written to a connection that then drops
// (the pool restarted before reading it) goes out again on the next one.
import type { LogLine, RunnerOutput, RunnerStreamItem, RunnerToPool, StreamGrant } from "../wire/protocol.js";
import { FRAME_PAYLOAD_BUDGET, chunkBySize, truncateUtf8 } from "./frames.js";
import { runnerLog } from "./console-capture.js";

/** Delivers one message to the connected pool; rejects if it could not be written. */
export type Send = (message: RunnerToPool) => Promise<void>;

/** Longest log line kept; longer ones are cut so one runaway print cannot flood the pool. */
export const MAX_LOG_LINE_BYTES = 8 * 1024;
/** Log lines kept between two flushes; the rest are counted and reported as dropped. */
export const MAX_LOG_LINES_PER_FLUSH = 1_000;
/** Results held unsent or unacknowledged; beyond this the oldest go (the pool re-runs inputs it never hears about). */
export const MAX_BUFFERED_OUTPUT_BYTES = 64 * 1024 * 1024;
/** CBOR overhead per item in a frame, for sizing frames without encoding twice. */
const ITEM_OVERHEAD_BYTES = 64;

export class Outbox {
  /** Not sent yet, in order. */
  private outputs: RunnerOutput[] = [];
  /** Sent on the current connection and not yet acknowledged by the pool, in send order. */
  private unacked = new Map<number, RunnerOutput>();
  /** Bytes of both. */
  private outputBytes = 0;
  /** Values yielded by generator inputs, not sent yet, in order. */
  private items: RunnerStreamItem[] = [];
  /** Sent and not yet stored by the pool (its grants say what it has), in send order. At most a window per input. */
  private unackedItems: RunnerStreamItem[] = [];
  /** Inputs that waited for a slot and have started, not reported yet (see `started` in protocol.ts). */
  private started: number[] = [];
  private logs: LogLine[] = [];
  private droppedLogs = 0;
  private scheduled = false;
  private send: Send | null = null;

  /**
   * Connects (or with null, disconnects) the pool. Whatever the previous
   * connection never acknowledged is sent again, ahead of newer outputs: the
   * pool ignores a result it already has.
   */
  setSend(send: Send | null): void {
    this.send = send;
    if (this.unackedItems.length > 0) {
      this.items = [...this.unackedItems, ...this.items];
      this.unackedItems = [];
    }
    if (this.unacked.size > 0) {
      this.outputs = [...this.unacked.values(), ...this.outputs];
      this.unacked.clear();
    }
    if (send) this.flushSoon();
  }

  addOutput(output: RunnerOutput): void {
    this.outputs.push(output);
    this.outputBytes += output.value.byteLength;
    while (this.outputBytes > MAX_BUFFERED_OUTPUT_BYTES && this.unacked.size + this.outputs.length > 1) {
      const oldest = this.unacked.size > 0 ? this.unacked.values().next().value! : this.outputs[0];
      this.forget(oldest.id);
      runnerLog(`the output buffer is full (the pool is not reading): dropped the output of input ${oldest.id}`);
    }
    this.flushSoon();
  }

  /** An input that waited here for a slot has started: the pool's timeout for it runs from now. */
  addStarted(id: number): void {
    this.started.push(id);
    this.flushSoon();
  }

  /** A value a generator input yielded; it goes out before any output added after it. */
  addItem(item: RunnerStreamItem): void {
    this.items.push(item);
    this.flushSoon();
  }

  /** The pool has stored these inputs' values below `stored`: they need not be sent again. */
  itemsStored(grants: readonly StreamGrant[]): void {
    const stored = new Map(grants.map((g) => [g.id, g.stored]));
    this.unackedItems = this.unackedItems.filter((i) => i.seq >= (stored.get(i.id) ?? 0));
  }

  /** The pool has these outputs: they need not be sent again. */
  acknowledge(ids: readonly number[]): void {
    for (const id of ids) {
      const output = this.unacked.get(id);
      if (!output) continue;
      this.unacked.delete(id);
      this.outputBytes -= output.value.byteLength;
    }
  }

  /** Inputs whose outputs are here, sent or not, that the pool has not acknowledged. */
  heldIds(): number[] {
    return [...this.unacked.keys(), ...this.outputs.map((o) => o.id)];
  }

  addLog(line: LogLine): void {
    if (this.logs.length >= MAX_LOG_LINES_PER_FLUSH) {
      this.droppedLogs++;
      return;
    }
    this.logs.push({ ...line, text: truncateUtf8(line.text, MAX_LOG_LINE_BYTES) });
    this.flushSoon();
  }

  /** Forgets the outputs of these inputs (they were cancelled). */
  discardOutputs(ids: ReadonlySet<number>): void {
    for (const id of ids) this.forget(id);
    this.items = this.items.filter((i) => !ids.has(i.id));
    this.unackedItems = this.unackedItems.filter((i) => !ids.has(i.id));
  }

  private forget(id: number): void {
    const sent = this.unacked.get(id);
    if (sent) {
      this.unacked.delete(id);
      this.outputBytes -= sent.value.byteLength;
    }
    const at = this.outputs.findIndex((o) => o.id === id);
    if (at >= 0) {
      this.outputBytes -= this.outputs[at].value.byteLength;
      this.outputs.splice(at, 1);
    }
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
    const items = this.items;
    this.items = [];
    const outputs = this.outputs;
    this.outputs = [];
    // Best effort, like logs: after a reconnect the runner's `ready` says again which inputs run.
    const started = this.started;
    this.started = [];
    try {
      for (const lines of chunkBySize(logs, (l) => Buffer.byteLength(l.text) + ITEM_OVERHEAD_BYTES, FRAME_PAYLOAD_BUDGET)) {
        await send({ t: "logs", lines });
      }
    } catch {
      // The connection went away: log lines are best effort, outputs below are kept.
    }
    // Held from the start: a connection that drops (or is replaced) mid-way sends them all again, ahead of anything newer.
    this.unackedItems.push(...items);
    for (const chunk of chunkBySize(items, (i) => i.value.byteLength + ITEM_OVERHEAD_BYTES, FRAME_PAYLOAD_BUDGET)) {
      // Values go before the outputs that follow them: outputs not sent on this connection go on the current one.
      if (this.send !== send) return this.sendAgain(outputs);
      try {
        await send({ t: "items", items: chunk });
      } catch {
        if (this.send !== send) return this.sendAgain(outputs);
        for (const o of outputs) this.unacked.set(o.id, o);
        return;
      }
    }
    const chunks = chunkBySize(outputs, (o) => o.value.byteLength + ITEM_OVERHEAD_BYTES, FRAME_PAYLOAD_BUDGET);
    if (started.length > 0 && chunks.length === 0) chunks.push([]);
    for (let i = 0; i < chunks.length; i++) {
      // The connection went while earlier frames were written: the rest go out on the current one.
      if (this.send !== send) return this.sendAgain(chunks.slice(i).flat());
      // Held as unacknowledged from the moment it is handed to the socket: an ack can come back before the write settles.
      for (const o of chunks[i]) this.unacked.set(o.id, o);
      try {
        await send(i === 0 && started.length > 0 ? { t: "outputs", outputs: chunks[i], started } : { t: "outputs", outputs: chunks[i] });
      } catch {
        if (this.send !== send) return this.sendAgain(chunks.slice(i).flat());
        // Still this (broken) connection: its close moves every unacknowledged output to the next one.
        for (const o of chunks.slice(i + 1).flat()) this.unacked.set(o.id, o);
        return;
      }
    }
  }

  /**
   * Outputs a replaced connection did not take: first in line for the current
   * one, unless the switch already queued them (or the new one sent them).
   */
  private sendAgain(outputs: RunnerOutput[]): void {
    const queued = new Set(this.outputs.map((o) => o.id));
    const missed = outputs.filter((o) => !queued.has(o.id) && !this.unacked.has(o.id));
    this.outputs = [...missed, ...this.outputs];
    this.flushSoon();
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

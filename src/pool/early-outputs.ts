// Outputs answered before they are stored. A Durable Object's outgoing
// messages wait until the writes made before them commit (the output gate),
// so a `.remote()` whose output was stored before its caller was answered
// waited for a commit (~0.4 ms on a local disk, much of a warm call). Here a
// one-input call's output goes to the reader waiting for it straight from
// the runner's frame, and is stored later, once the answer has left; only
// then is the runner told the pool has it (the runner keeps each output
// until then and sends it again to a restarted pool, so a pool that dies in
// between loses nothing).
//
// Later means STORE_DELAY_MS on its own, so that a caller's next call, sent
// as soon as the answer arrives, stores it with its own writes: one commit
// per call instead of two (a commit is most of the pool's cost of a call).
// When inputs wait for a slot, the output is stored in the next task, as
// storing it frees its slot for them.
//
// Until it is stored, no other event may see the input as still running: the
// pool flushes what is held here at the start of every entry point (each RPC
// method, the alarm, each runner frame), of each reconcile, and before it
// gives up on or stops a container, so a cancel, a timeout, a lost
// container, a second read or the same output sent again each find the input
// finished, exactly as if it had been stored at once. Pure bookkeeping:
// storing, acknowledging and the later task are the host's.
import type { OutputItem, OutputStatus } from "../../sdk/src/wire/api";

/** An input's final output, as outcomes.ts has it (store.ts's FinishedInput): `kind` is its call's kind. */
export interface FinalOutput {
  input: { id: number; callId: string; idx: number; kind?: string };
  status: OutputStatus;
  value: Uint8Array;
}

export interface EarlyOutputHost<T extends FinalOutput> {
  /** Stores a container's final outputs as if they had just arrived: completed, counted, readers woken, slots freed. */
  store(containerId: string, finished: T[]): void;
  /** Tells a runner the pool has stored these inputs' outputs. */
  acknowledge(containerId: string, inputIds: number[]): void;
  /** The stored inputs' slots are free: dispatch and scale. */
  loadChanged(): void;
  /** Whether inputs wait for a container slot now (storing a held output frees one). */
  inputsWaiting(): boolean;
  /** Runs `flush` in a later task, delayMs from now, after the answers of this one have left. */
  defer(flush: () => void, delayMs: number): void;
}

/**
 * How long an answered output waits to be stored with the next event's
 * writes. A caller's next call comes within a millisecond of its answer on a
 * kept connection; a few ms more in memory cost nothing (the runner holds the
 * output until it is stored).
 */
export const STORE_DELAY_MS = 5;

export class EarlyOutputs<T extends FinalOutput = FinalOutput> {
  /** Calls with a reader waiting for their one output now, and how many readers. */
  private readonly readers = new Map<string, number>();
  /** Outputs answered and not stored yet, by call; each from the container that ran it. */
  private readonly held = new Map<string, { containerId: string; finished: T }>();
  /** The later store asked of the host and not run yet: how soon. */
  private deferred: { delayMs: number } | null = null;

  constructor(private readonly host: EarlyOutputHost<T>) {}

  /** A reader waits for a one-input call's output until `wait` settles: an output arriving meanwhile may be answered early. */
  async awaiting<R>(callId: string, wait: Promise<R>): Promise<R> {
    this.readers.set(callId, (this.readers.get(callId) ?? 0) + 1);
    try {
      return await wait;
    } finally {
      const left = (this.readers.get(callId) ?? 1) - 1;
      if (left > 0) this.readers.set(callId, left);
      else this.readers.delete(callId);
    }
  }

  /**
   * Of a frame's final outputs, holds those a waiting reader can be answered
   * with now (a remote call's one input), to be stored later; the rest are
   * to be stored at once.
   */
  hold(containerId: string, final: T[]): { held: T[]; rest: T[] } {
    if (this.readers.size === 0) return { held: [], rest: final };
    const held: T[] = [];
    const rest: T[] = [];
    for (const f of final) {
      const { callId } = f.input;
      if (f.input.kind === "remote" && this.readers.has(callId) && !this.held.has(callId)) {
        this.held.set(callId, { containerId, finished: f });
        held.push(f);
      } else rest.push(f);
    }
    if (this.held.size > 0) this.deferFlush(this.host.inputsWaiting() ? 0 : STORE_DELAY_MS);
    return { held, rest };
  }

  /** Asks the host for a later store, unless one is asked for as soon already (inputs that came to wait for a slot make it sooner). */
  private deferFlush(delayMs: number): void {
    if (this.deferred !== null && this.deferred.delayMs <= delayMs) return;
    const deferred = { delayMs };
    this.deferred = deferred;
    this.host.defer(() => {
      if (this.deferred === deferred) this.deferred = null;
      this.flush();
    }, delayMs);
  }

  /** The output held for this call, if it is answered and not stored yet. */
  outputOf(callId: string): OutputItem | null {
    const held = this.held.get(callId);
    if (!held) return null;
    const { input, status, value } = held.finished;
    return { idx: input.idx, status, value };
  }

  /** Stores everything held, then acknowledges it to its runners. */
  flush(): void {
    if (this.held.size === 0) return;
    const byContainer = new Map<string, T[]>();
    for (const { containerId, finished } of this.held.values()) {
      const list = byContainer.get(containerId);
      if (list) list.push(finished);
      else byContainer.set(containerId, [finished]);
    }
    // Emptied first: what storing sets off (a dispatch, a lost container) finds nothing held.
    this.held.clear();
    for (const [containerId, finished] of byContainer) this.host.store(containerId, finished);
    for (const [containerId, finished] of byContainer) {
      this.host.acknowledge(
        containerId,
        finished.map((f) => f.input.id),
      );
    }
    this.host.loadChanged();
  }
}

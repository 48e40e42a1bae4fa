// A call's outputs as a client reads them: after a cursor, waiting up to a
// bound for one, from storage or (a remote call's one output) from what the
// pool answered before storing it (early-outputs.ts).
import type { CallOutputs } from "./config";
import type { Clock } from "./clock";
import type { EarlyOutputs } from "./early-outputs";
import * as limits from "./limits";
import type { FinishedInput, PoolStore } from "./store";
import type { CallKind } from "./store-schema";
import type { OutputWaiters } from "./waiters";

/** Longest a single read may wait for outputs (the Worker's request stays well under platform limits). */
export const MAX_WAIT_MS = 30_000;

/** Whether a call has every output it will have: closed, and each input done (a spawned call waits for its input first). */
export function isDone(call: { kind: CallKind; closed: number; total: number; done: number }): boolean {
  if (call.kind === "spawn" && call.total === 0) return false;
  return call.closed === 1 && call.done >= call.total;
}

export class OutputReads {
  constructor(private readonly parts: { store: PoolStore; waiters: OutputWaiters; early: EarlyOutputs<FinishedInput>; clock: Clock }) {}

  /**
   * Outputs after `cursor`, waiting up to waitMs for one. A `fresh` call (just
   * started, with inputs) is not read before its first wait; a `oneInput`
   * call (remote: one input, closed) is done once it has its output. With
   * `maxBytes`, outputs past that many bytes of values wait for the next read.
   */
  async read(callId: string, cursor: number, waitMs: number, call: { fresh?: boolean; oneInput?: boolean; maxBytes?: number } = {}): Promise<CallOutputs> {
    const { store, waiters, early: held, clock } = this.parts;
    const deadline = clock.now() + Math.min(Math.max(waitMs, 0), MAX_WAIT_MS);
    // A one-input call's output may reach its waiting reader before it is stored (early-outputs.ts).
    const early = call.oneInput === true && cursor === 0;
    const wait = (ms: number): Promise<void> => (early ? held.awaiting(callId, waiters.waitFor(callId, ms)) : waiters.waitFor(callId, ms));
    if (call.fresh) {
      if (deadline <= clock.now()) return { outputs: [], cursor, done: false };
      await wait(deadline - clock.now());
    }
    for (;;) {
      const answered = early ? held.outputOf(callId) : null;
      if (answered) return { outputs: [answered], cursor, done: true };
      const rows = store.outputs.read(callId, cursor, limits.MAX_OUTPUTS_PER_READ, call.maxBytes);
      const outputs = rows.map((r) => ({ idx: r.idx, status: r.status, value: r.value }));
      const last = rows.length ? rows[rows.length - 1].cursor : cursor;
      if (call.oneInput && cursor === 0 && rows.length === 1) return { outputs, cursor: last, done: true };
      const row = store.getCall(callId);
      const full = rows.length >= limits.MAX_OUTPUTS_PER_READ || call.maxBytes !== undefined;
      const done = !!row && isDone(row) && (!full || last >= store.outputs.lastCursor(callId));
      const remaining = deadline - clock.now();
      if (rows.length > 0 || done || !row || remaining <= 0) return { outputs, cursor: last, done };
      await wait(remaining);
    }
  }
}

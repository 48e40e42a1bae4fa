// Readers waiting for a call's outputs: woken when one of their calls gets an
// output or is done, or when their wait runs out. In memory only: a reader of
// an evicted pool times out and reads again.
//
// One timer serves every wait, armed for the earliest deadline. A timer per
// wait cost each `.remote()` a setTimeout and a clearTimeout, a few percent
// of the pool's work per call in workerd; waits mostly end by an output long
// before their deadline (25 s for a remote), so the shared timer is rarely
// re-armed and fires only when a wait really runs out.

interface Waiter {
  callIds: readonly string[];
  deadlineMs: number;
  resolve: () => void;
}

/** When the waits run out; the pool's entry injects nothing, tests may. */
export interface WaitTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemTimers: WaitTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class OutputWaiters {
  private readonly byCall = new Map<string, Set<Waiter>>();
  private readonly waiting = new Set<Waiter>();
  /** The one timer, and the deadline it is armed for. */
  private timer: { handle: unknown; atMs: number } | null = null;

  constructor(private readonly timers: WaitTimers = systemTimers) {}

  waitFor(callId: string, ms: number): Promise<void> {
    return this.waitForAny([callId], ms);
  }

  /** Resolves when any of these calls gets an output (or is done), or after `ms`. */
  waitForAny(callIds: readonly string[], ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter: Waiter = { callIds, deadlineMs: this.timers.now() + Math.max(0, ms), resolve };
      for (const id of callIds) {
        let set = this.byCall.get(id);
        if (!set) this.byCall.set(id, (set = new Set()));
        set.add(waiter);
      }
      this.waiting.add(waiter);
      this.armFor(waiter.deadlineMs);
    });
  }

  notify(callId: string): void {
    const set = this.byCall.get(callId);
    if (set) for (const waiter of [...set]) this.wake(waiter);
  }

  /** How many readers wait now. */
  get size(): number {
    return this.waiting.size;
  }

  private wake(waiter: Waiter): void {
    if (!this.waiting.delete(waiter)) return;
    for (const id of waiter.callIds) {
      const set = this.byCall.get(id);
      set?.delete(waiter);
      if (set?.size === 0) this.byCall.delete(id);
    }
    waiter.resolve();
  }

  /** Arms the timer for `deadlineMs` unless it fires at or before it already (a woken reader's deadline may leave it early: it then finds nothing due). */
  private armFor(deadlineMs: number): void {
    if (this.timer && this.timer.atMs <= deadlineMs) return;
    if (this.timer) this.timers.clearTimeout(this.timer.handle);
    // At least 1 ms: a timer that fires a little before its deadline comes round again.
    const handle = this.timers.setTimeout(() => this.expire(), Math.max(1, deadlineMs - this.timers.now()));
    this.timer = { handle, atMs: deadlineMs };
  }

  /** Wakes the readers whose wait ran out, and arms the timer for the next deadline. */
  private expire(): void {
    this.timer = null;
    const now = this.timers.now();
    let next = Number.POSITIVE_INFINITY;
    for (const waiter of [...this.waiting]) {
      if (waiter.deadlineMs <= now) this.wake(waiter);
      else next = Math.min(next, waiter.deadlineMs);
    }
    if (next !== Number.POSITIVE_INFINITY) this.armFor(next);
  }
}

// Back-pressure for generator inputs: how far each may run ahead of its
// reader. The pool grants credit (`stream_grants`) as the caller reads; a
// generator waits for credit before it is asked for its next value.
import { STREAM_WINDOW, type StreamGrant } from "../wire/protocol.js";

interface Credit {
  /** Values below this may be sent. */
  until: number;
  cancelled: boolean;
  wake: (() => void) | null;
}

export class StreamCredits {
  private readonly credits = new Map<number, Credit>();

  /** Resolves true once value `seq` of input `id` may be produced, false if the input was cancelled first. */
  async waitFor(id: number, seq: number): Promise<boolean> {
    const credit = this.creditOf(id);
    while (!credit.cancelled && seq >= credit.until) {
      await new Promise<void>((resolve) => (credit.wake = resolve));
    }
    return !credit.cancelled;
  }

  grant(grants: readonly StreamGrant[]): void {
    for (const g of grants) {
      // Only inputs that have started yielding have credit: a late grant for a finished one is dropped.
      const credit = this.credits.get(g.id);
      if (!credit) continue;
      credit.until = Math.max(credit.until, g.until);
      this.wake(credit);
    }
  }

  /** Only called for running inputs, whose entry close() removes when they finish. */
  cancel(id: number): void {
    const credit = this.creditOf(id);
    credit.cancelled = true;
    this.wake(credit);
  }

  /** The input finished: its credit is forgotten. */
  close(id: number): void {
    this.credits.delete(id);
  }

  private creditOf(id: number): Credit {
    let credit = this.credits.get(id);
    if (!credit) {
      credit = { until: STREAM_WINDOW, cancelled: false, wake: null };
      this.credits.set(id, credit);
    }
    return credit;
  }

  private wake(credit: Credit): void {
    const wake = credit.wake;
    credit.wake = null;
    wake?.();
  }
}

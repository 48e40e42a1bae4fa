// Readers waiting for a call's outputs: woken when one of their calls gets an
// output or is done, or when their wait runs out. In memory only: a reader of
// an evicted pool times out and reads again.
export class OutputWaiters {
  private readonly waiters = new Map<string, Set<() => void>>();

  waitFor(callId: string, ms: number): Promise<void> {
    return this.waitForAny([callId], ms);
  }

  /** Resolves when any of these calls gets an output (or is done), or after `ms`. */
  waitForAny(callIds: readonly string[], ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sets = callIds.map((id) => {
        let set = this.waiters.get(id);
        if (!set) this.waiters.set(id, (set = new Set()));
        return [id, set] as const;
      });
      const wake = (): void => {
        clearTimeout(timer);
        for (const [id, set] of sets) {
          set.delete(wake);
          if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
        }
        resolve();
      };
      const timer = setTimeout(wake, ms);
      for (const [, set] of sets) set.add(wake);
    });
  }

  notify(callId: string): void {
    const set = this.waiters.get(callId);
    if (set) for (const wake of [...set]) wake();
  }
}

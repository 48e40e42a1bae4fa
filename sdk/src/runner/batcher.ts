// Dynamic batching (README "Dynamic batching"): groups the inputs of a
// batched function into batches of at most maxBatchSize, waiting at most
// waitMs after the oldest waiting input for a batch to fill, runs each batch
// with one call, and hands each input its element of the returned array.
// Pure: time comes from an injected clock, so tests drive it by hand.

export interface BatchClock {
  now(): number;
  /** Calls `fn` after `ms`; the returned function cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

export const systemClock: BatchClock = {
  now: () => Date.now(),
  setTimer: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

export interface BatcherOptions<I> {
  /** `Embed.embed`: how errors name the function. */
  label: string;
  maxBatchSize: number;
  waitMs: number;
  /** Batches run at once (the function's concurrent.maxInputs); a full batch waits for one to finish. */
  maxConcurrentBatches: number;
  /** Runs one batch: resolves to what the function returned for these items, in order. */
  run: (items: I[]) => Promise<unknown>;
  clock?: BatchClock;
}

interface Waiting<I> {
  item: I;
  arrivedAt: number;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class BatchLengthError extends Error {
  override name = "BatchLengthError";
}

export class Batcher<I> {
  private readonly clock: BatchClock;
  private waiting: Waiting<I>[] = [];
  private running = 0;
  private cancelTimer: (() => void) | null = null;

  constructor(private readonly options: BatcherOptions<I>) {
    this.clock = options.clock ?? systemClock;
  }

  /** Resolves to this item's element of its batch's result; rejects with the batch's error. */
  add(item: I): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, arrivedAt: this.clock.now(), resolve, reject });
      // A partial batch starts from the timer, never here: with waitMs 0, inputs that arrive together still share a batch.
      this.flush(false);
    });
  }

  /** Inputs waiting for a batch (not yet running). */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Starts every batch that is ready (full, or with `partial` its oldest input has waited waitMs) while batch slots are free. */
  private flush(partial: boolean): void {
    const { maxBatchSize, waitMs, maxConcurrentBatches } = this.options;
    while (this.running < maxConcurrentBatches && this.waiting.length > 0) {
      const due = partial && this.clock.now() - this.waiting[0].arrivedAt >= waitMs;
      if (this.waiting.length < maxBatchSize && !due) break;
      this.start(this.waiting.splice(0, maxBatchSize));
    }
    this.schedule();
  }

  /** Arms the timer for the oldest waiting input's deadline (once a batch slot is free, flush starts it). */
  private schedule(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    if (this.waiting.length === 0 || this.running >= this.options.maxConcurrentBatches) return;
    const delayMs = Math.max(0, this.waiting[0].arrivedAt + this.options.waitMs - this.clock.now());
    this.cancelTimer = this.clock.setTimer(delayMs, () => {
      this.cancelTimer = null;
      this.flush(true);
    });
  }

  private start(batch: Waiting<I>[]): void {
    this.running++;
    void this.runBatch(batch).finally(() => {
      this.running--;
      this.flush(true);
    });
  }

  private async runBatch(batch: Waiting<I>[]): Promise<void> {
    let result: unknown;
    try {
      result = await this.options.run(batch.map((w) => w.item));
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    if (!Array.isArray(result) || result.length !== batch.length) {
      const got = Array.isArray(result) ? `an array of length ${result.length}` : describe(result);
      const err = new BatchLengthError(
        `${this.options.label} is batched: called with a batch of ${batch.length} inputs, it must return an array of ${batch.length} results (one per input, in order), but returned ${got}`,
      );
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => w.resolve(result[i]));
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return `an object (${(value as object).constructor?.name ?? "Object"}), not an array`;
  return `a ${typeof value}, not an array`;
}

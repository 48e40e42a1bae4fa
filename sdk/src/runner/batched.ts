// Runs the inputs of a batched function (README "Dynamic batching"): each
// input waits in its function's (or class method's) Batcher, and one call
// with a list per positional parameter runs the whole batch.
import type { RunnerInput } from "../wire/protocol.js";
import type { BatchedOptions } from "../wire/options.js";
import { decode } from "../wire/serialization.js";
import type { LoadedTarget } from "./loader.js";
import { inputContext } from "./console-capture.js";
import { failure, labelOf, resolve, success, type Outcome } from "./invoke.js";
import { Batcher, type BatchClock } from "./batcher.js";

interface BatchItem {
  id: number;
  args: unknown[];
}

export interface BatchedExecutorOptions extends BatchedOptions {
  maxConcurrentBatches: number;
  clock?: BatchClock;
}

/** An executor that batches: one Batcher per method for a class (each instance is its own container, so its own batches). */
export function batchedExecutor(target: LoadedTarget, options: BatchedExecutorOptions): (input: RunnerInput) => Promise<Outcome> {
  const batchers = new Map<string, Batcher<BatchItem>>();
  const batcherFor = (method: string | undefined): Batcher<BatchItem> => {
    const key = method ?? "";
    let batcher = batchers.get(key);
    if (!batcher) {
      const fn = resolve(target, method);
      batcher = new Batcher<BatchItem>({ ...options, label: labelOf(target, method), run: (items) => runBatch(fn, items) });
      batchers.set(key, batcher);
    }
    return batcher;
  };
  return async (input) => {
    const label = labelOf(target, input.method);
    try {
      const args = decode<unknown>(input.args);
      if (!Array.isArray(args)) throw new TypeError(`the arguments of ${label} are not an argument list`);
      return success(await batcherFor(input.method).add({ id: input.id, args }), label);
    } catch (err) {
      return failure(err);
    }
  };
}

/**
 * Calls the function once with one list per positional parameter: the
 * batch's first arguments, its second arguments, and so on. What it prints
 * is attributed to the batch's first input.
 */
function runBatch(fn: (...args: unknown[]) => unknown, items: BatchItem[]): Promise<unknown> {
  const arity = Math.max(...items.map((item) => item.args.length));
  const lists = Array.from({ length: arity }, (_, i) => items.map((item) => item.args[i]));
  return inputContext.run(items[0].id, async () => await fn(...lists));
}

// A synchronous function with input concurrency. Async functions serve many
// inputs at once on the container's event loop; a synchronous one with
// `concurrent.maxInputs > 1` runs each input on a worker thread of its own,
// as Modal runs sync functions on threads. Each thread is its own isolate:
// module state (caches, counters) is per thread, and each costs memory.
//   npx squall run examples/sync-concurrency.ts
import { threadId } from "node:worker_threads";
import { App } from "squall";

export const app = new App("sync-concurrency");

/** Blocks its thread for `ms` (stands in for CPU-bound work or a synchronous library call). */
export const blockingWork = app.function({ maxContainers: 1, concurrent: { maxInputs: 4 } }, function blockingWork(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return { ms, threadId };
});

app.localEntrypoint(async () => {
  await blockingWork.remote(0); // start the container first, so the timing below is the work alone
  const started = Date.now();
  const results = await blockingWork.map([1_000, 1_000, 1_000, 1_000]).toArray();
  const seconds = (Date.now() - started) / 1000;
  console.log(`4 blocking inputs of 1 s on one container: done in ${seconds.toFixed(1)} s (one after another would take 4 s)`);
  console.log(`ran on ${new Set(results.map((r) => r.threadId)).size} threads, none on the main thread: ${results.every((r) => r.threadId !== 0)}`);
});

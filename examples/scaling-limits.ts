// Scaling limits (Modal's guide of that name, in Squall). Per function pool:
// 2 000 pending and 25 000 total inputs for remote()/map(), 1 000 000
// pending spawned calls, 1 000 inputs in flight per map. Over a limit the API
// answers 429 RESOURCE_EXHAUSTED with a Retry-After: map, starmap and
// spawnMap wait and continue by themselves, so any size of map completes;
// remote() raises ResourceExhaustedError, which the caller may wait out.
//   npx squall run examples/scaling-limits.ts
import { App, ResourceExhaustedError } from "squall";

export const app = new App("scaling-limits");

export const noop = app.function({ maxContainers: 4, concurrent: { maxInputs: 100 } }, async function noop(x: number) {
  return x;
});

function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

/** remote(), waiting out the pool's limits instead of failing. */
async function remoteWithBackoff(x: number): Promise<number> {
  for (;;) {
    try {
      return await noop.remote(x);
    } catch (err) {
      if (!(err instanceof ResourceExhaustedError)) throw err;
      await new Promise((resolve) => setTimeout(resolve, err.retryAfterMs));
    }
  }
}

app.localEntrypoint(async () => {
  // A map far larger than the pending limit: inputs stream from a generator, 1 000 in flight at a time.
  let started = Date.now();
  let sum = 0;
  for await (const y of noop.map(range(100_000))) sum += y;
  const seconds = (Date.now() - started) / 1000;
  console.log(`map of 100000 inputs: sum ${sum} in ${seconds.toFixed(1)} s (${Math.round(100_000 / seconds)} inputs/s)`);

  started = Date.now();
  const calls = await noop.spawnMap(range(10_000));
  console.log(`spawnMap of ${calls.length} calls returned in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const burst = await Promise.all(Array.from({ length: 500 }, (_, i) => remoteWithBackoff(i)));
  console.log(`500 concurrent remote() calls: ${burst.length} results`);
});

// Async usage (Modal's guide of that name, in Squall): every call is already
// async. Promise.all over remote() runs calls in parallel across containers,
// maps take async iterables and are consumed with for await, and spawned
// calls are awaited whenever their result is needed.
//   npx squall run examples/async-usage.ts
import { App } from "squall";

export const app = new App("async-usage");

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// One input per container at a time, up to 5 containers.
export const slowDouble = app.function({ maxContainers: 5 }, async function slowDouble(x: number) {
  await sleep(1_000);
  return 2 * x;
});

// Async functions serve many inputs at once on one container.
export const fetchish = app.function({ maxContainers: 1, concurrent: { maxInputs: 50 } }, async function fetchish(id: number) {
  await sleep(200); // stands in for network I/O
  return { id, status: 200 };
});

async function* ids(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) {
    if (i % 10 === 0) await sleep(5); // e.g. reading a paginated source
    yield i;
  }
}

app.localEntrypoint(async () => {
  let started = Date.now();
  const results = await Promise.all([1, 2, 3, 4, 5].map((x) => slowDouble.remote(x)));
  console.log(`results: ${results.join(", ")} in ${((Date.now() - started) / 1000).toFixed(1)} s (one at a time would take 5 s)`);

  started = Date.now();
  let ok = 0;
  for await (const r of fetchish.map(ids(100), { orderOutputs: false })) if (r.status === 200) ok++;
  console.log(`map over an async generator: ${ok} of 100 ok in ${((Date.now() - started) / 1000).toFixed(1)} s on one container`);

  // spawn now, do something else, await the result later.
  const call = await slowDouble.spawn(21);
  const meanwhile = await fetchish.remote(7);
  console.log(`meanwhile: ${meanwhile.status}; spawned result: ${await call.get()}`);
});

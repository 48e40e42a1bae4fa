// The scale-out scenario: a burst of slow inputs fans out across a pool of
// containers, then the pool scales back to zero once it is idle.
//   npx squall deploy examples/scale-out.ts
//   npx squall run examples/scale-out.ts
import { App } from "squall";

export const app = new App("scale-out");

export const evaluateModel = app.function({ maxContainers: 10, bufferContainers: 2, scaledownWindowMs: 5_000 }, async function evaluateModel(x: number) {
  // Stands in for a model evaluation that takes a while.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  return x ** 2;
});

app.localEntrypoint(async () => {
  const inputs = Array.from({ length: 100 }, (_, i) => i);
  let total = 0;
  for await (const y of evaluateModel.map(inputs)) total += y;
  console.log(`sum of squares of 0..99 = ${total}`);
});

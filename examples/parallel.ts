// Parallel execution (Modal's guide of that name, in Squall): map, starmap,
// forEach, and spawn with FunctionCall.
//   npx squall run examples/parallel.ts
import { App, FunctionCall } from "squall";

export const app = new App("parallel-execution");

export const square = app.function({ maxContainers: 4, concurrent: { maxInputs: 10 } }, async function square(x: number) {
  return x * x;
});

export const add = app.function({ maxContainers: 2 }, async function add(a: number, b: number) {
  return a + b;
});

export const slowSquare = app.function({ maxContainers: 4, concurrent: { maxInputs: 10 } }, async function slowSquare(x: number) {
  await new Promise((resolve) => setTimeout(resolve, x * 100));
  return x * x;
});

export const logLine = app.function({}, async function logLine(line: string) {
  console.log(line); // shows in `npx squall logs` for the app
});

function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

app.localEntrypoint(async () => {
  // map: one input per item, in parallel across containers; outputs in input order.
  console.log("squares:", (await square.map(range(10)).toArray()).join(", "));

  // starmap: each item is an argument list.
  console.log(
    "sums:",
    (
      await add
        .starmap([
          [1, 2],
          [3, 4],
          [5, 6],
        ])
        .toArray()
    ).join(", "),
  );

  // orderOutputs: false yields each output as soon as it is ready.
  const asCompleted: number[] = [];
  for await (const y of slowSquare.map([5, 1, 3], { orderOutputs: false })) asCompleted.push(y);
  console.log("as completed:", asCompleted.join(", "));

  // forEach: run for the side effects, discard the results.
  await logLine.forEach(["a", "b", "c"]);
  console.log("forEach: done");

  // spawn: enqueue now, collect later.
  const calls = await Promise.all([10, 11, 12].map((x) => square.spawn(x)));
  console.log("spawned:", calls.length, "calls");
  console.log("gathered:", (await FunctionCall.gather(...calls)).join(", "));

  // spawnMap: one spawned call per input; each result can be read on its own.
  const more = await square.spawnMap(range(5));
  console.log("first spawned result:", await more[0].get(), "| last:", await more[more.length - 1].get());
});

// Common gotchas, and which of them TypeScript catches before anything runs.
// Every line under `// @ts-expect-error` is a mistake the types reject
// (`npm run typecheck` fails if one of them stops being an error); the
// entrypoint runs the right way to write each, and the one mistake only the
// SDK can catch, at run time.
//   npx squall run examples/gotchas.ts
import { App, Client, InvalidError } from "squall";

export const app = new App("gotchas");

export const square = app.function({ maxContainers: 2 }, async function square(x: number) {
  return x * x;
});

export const Model = app.cls(
  {},
  class Model {
    constructor(readonly params: { modelVersion: string }) {}
    async enter() {}
    async predict(x: number) {
      return `${this.params.modelVersion}: ${x}`;
    }
  },
);

class NotAnError {}

/** Never called: the mistakes TypeScript catches. */
export async function mistakes(): Promise<void> {
  // @ts-expect-error a function handle is not callable: use square.remote(3) (or square.local(3))
  square(3);
  // @ts-expect-error remote() returns a Promise, which has no map: use square.map([1, 2, 3])
  square.remote(3).map((y: number) => y);
  // @ts-expect-error a forgotten await: remote() returns a Promise<number>, not a number
  const y: number = square.remote(3);
  // @ts-expect-error arguments are checked against the function's own parameters
  await square.remote("3");
  // @ts-expect-error a map's items are the function's first argument
  square.map(["a", "b"]);
  // @ts-expect-error a map is an async iterable: for await (const y of square.map(xs))
  for (const z of square.map([1, 2])) console.log(z);
  // @ts-expect-error options are checked by name: maxContainers, not maxContainer
  app.function({ maxContainer: 4 }, async function typo() {});
  // @ts-expect-error and by unit: durations are numbers of milliseconds
  app.function({ scaledownWindowMs: "60s" }, async function unit() {});
  // @ts-expect-error a class instance's params are its constructor's
  Model.instance({ version: "3.5" });
  // @ts-expect-error enter() is a lifecycle hook the platform calls, not a remote method
  await Model.instance({ modelVersion: "3.5" }).enter.remote();
  // @ts-expect-error the Client's error classes must extend Error
  new Client({ errors: [NotAnError] });
  console.log(y);
}

app.localEntrypoint(async () => {
  console.log(`square.remote(3) = ${await square.remote(3)}`);
  console.log(`square.map([1, 2, 3]) = ${(await square.map([1, 2, 3]).toArray()).join(", ")}`);
  let sum = 0;
  for await (const y of square.map([1, 2, 3])) sum += y;
  console.log(`for await over a map: sum ${sum}`);
  console.log(`Model 3.5: ${await Model.instance({ modelVersion: "3.5" }).predict.remote(2)}`);

  // What the types cannot see: arguments must serialize (no functions, no class instances).
  // The SDK refuses them before anything is sent, naming the argument.
  try {
    await square.remote({ valueOf: () => 3 } as unknown as number);
  } catch (err) {
    if (!(err instanceof InvalidError)) throw err;
    console.log(`caught before sending: ${err.message}`);
  }
});

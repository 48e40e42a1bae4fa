// The functions the example Worker calls: deploy them first with
// `npx squall deploy examples/worker-client/app.ts`.
import { App } from "squall";

export const app = new App("worker-client");

export const greet = app.function({}, async function greet(name: string) {
  return `Hello, ${name}!`;
});

export const square = app.function({ concurrent: { maxInputs: 20 } }, async function square(x: number) {
  if (x < 0) throw new RangeError(`${x} is negative`);
  return x * x;
});

export const countdown = app.function({}, async function* countdown(from: number) {
  for (let n = from; n > 0; n--) yield n;
});

// The app `npm run bench:ceiling` deploys (scripts/bench/ceiling.ts): what one
// pool can carry on this machine, for docs/scaling-past-one-pool.md.
import { App } from "squall";
import { noopBody } from "./bodies";

export const app = new App("squall-ceiling");

/** Inputs per second and thread time per input: four containers of 100 slots, more than one pool can feed. */
export const wide = app.function({ maxContainers: 4, concurrent: { maxInputs: 100 }, scaledownWindowMs: 3_600_000 }, async function wide(x: number) {
  return noopBody(x);
});

/** Supervision: many one-slot containers, held up by minContainers while measured. */
export const many = app.function({ maxContainers: 64, scaledownWindowMs: 3_600_000 }, async function many(x: number) {
  return noopBody(x);
});

// Functions for the autoscaler's end-to-end tests: each has its own pool.
import { App } from "squall";

export const app = new App("autoscaling");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const warm = app.function({ minContainers: 2, scaledownWindowMs: 2_000 }, async function warm() {
  return "warm";
});

export const burst = app.function({ maxContainers: 3, scaledownWindowMs: 2_000 }, async function burst(ms: number) {
  await sleep(ms);
  return process.env.SQUALL_CONTAINER_ID;
});

let inFlight = 0;
let peak = 0;
export const concurrent = app.function(
  { maxContainers: 1, concurrent: { maxInputs: 10 }, scaledownWindowMs: 2_000 },
  async function concurrent(ms: number) {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await sleep(ms);
    inFlight--;
    return peak;
  },
);

/** A long scale-down window: containers go early only when maxContainers is lowered. */
export const shrinkable = app.function({ maxContainers: 4, scaledownWindowMs: 60_000 }, async function shrinkable(ms: number) {
  await sleep(ms);
  return process.env.SQUALL_CONTAINER_ID;
});

export const tunable = app.function({ maxContainers: 5, scaledownWindowMs: 2_000 }, async function tunable() {
  return "tuned";
});

export const Model = app.cls(
  { scaledownWindowMs: 2_000 },
  class Model {
    enters = 0;
    constructor(readonly params: { modelVersion: string }) {}
    async enter() {
      this.enters++;
    }
    async predict(x: number) {
      return `${this.params.modelVersion}:${x}:entered ${this.enters}`;
    }
  },
);

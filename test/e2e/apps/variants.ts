// Functions for the variants' end-to-end tests (withOptions / withConcurrency).
import { App } from "squall";

export const app = new App("variants");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let inFlight = 0;
let peak = 0;
/** Reports its container and how many inputs ran at once on it so far. */
export const work = app.function({ maxContainers: 3, scaledownWindowMs: 2_000 }, async function work(ms: number) {
  inFlight++;
  peak = Math.max(peak, inFlight);
  await sleep(ms);
  inFlight--;
  return { container: process.env.SQUALL_CONTAINER_ID, peak };
});

export const Greeter = app.cls(
  { scaledownWindowMs: 2_000 },
  class Greeter {
    constructor(readonly params: { greeting: string }) {}
    async greet(name: string) {
      return `${this.params.greeting}, ${name}`;
    }
  },
);

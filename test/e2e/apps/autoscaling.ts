// Functions for the autoscaler's end-to-end tests: each has its own pool.
import { threadId } from "node:worker_threads";
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
export const concurrent = app.function({ maxContainers: 1, concurrent: { maxInputs: 10 }, scaledownWindowMs: 2_000 }, async function concurrent(ms: number) {
  inFlight++;
  peak = Math.max(peak, inFlight);
  await sleep(ms);
  inFlight--;
  return peak;
});

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

/** Blocks this thread for `ms` without the CPU, as a synchronous driver call would. */
function blockThread(ms: number): { start: number; end: number; threadId: number } {
  const start = Date.now();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return { start, end: Date.now(), threadId };
}

/** Synchronous with maxInputs 4: each input on a worker thread of its own. */
export const blocking = app.function({ maxContainers: 1, concurrent: { maxInputs: 4 }, scaledownWindowMs: 2_000 }, function blocking(ms: number) {
  return { ...blockThread(ms), container: process.env.SQUALL_CONTAINER_ID };
});

/** A class with a synchronous method and maxInputs 4: each thread its own instance and enter(). */
export const BlockingModel = app.cls(
  { maxContainers: 1, concurrent: { maxInputs: 4 }, scaledownWindowMs: 2_000 },
  class BlockingModel {
    enteredOn = -1;
    constructor(readonly params: { tag: string }) {}
    enter() {
      this.enteredOn = threadId;
    }
    blockFor(ms: number) {
      return { ...blockThread(ms), container: process.env.SQUALL_CONTAINER_ID, tag: this.params.tag, enteredOn: this.enteredOn };
    }
  },
);

/** Planned for 2 inputs a container, bursting to 4 each once both containers are full. */
const inFlightHere = { n: 0 };
export const targeted = app.function(
  { maxContainers: 2, concurrent: { maxInputs: 4, targetInputs: 2 }, scaledownWindowMs: 2_000 },
  async function targeted(ms: number) {
    inFlightHere.n++;
    await sleep(ms);
    const alongside = inFlightHere.n; // inputs on this container while this one ends
    inFlightHere.n--;
    return { container: process.env.SQUALL_CONTAINER_ID, alongside };
  },
);

/** One buffer container: while inputs run, one extra container waits idle. */
export const buffered = app.function({ maxContainers: 3, bufferContainers: 1, scaledownWindowMs: 2_000 }, async function buffered(ms: number) {
  await sleep(ms);
  return process.env.SQUALL_CONTAINER_ID;
});

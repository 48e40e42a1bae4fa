// A function for the capacity end-to-end test: default settings (no
// maxContainers), 50 ms of waiting per input, and a short scale-down window
// so the pool goes idle between bursts.
import { App } from "squall";

export const app = new App("capacity");

export const evaluate = app.function({ scaledownWindowMs: 2_000 }, async function evaluate(x: number) {
  await new Promise((resolve) => setTimeout(resolve, 50));
  return x * 2;
});

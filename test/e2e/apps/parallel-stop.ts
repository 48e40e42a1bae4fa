// `squall app stop` cancels everything pending and running: its own app, so
// stopping it leaves the other tests' apps alone.
import { App } from "squall";

export const app = new App("parallel-stop");

/** Two inputs at a time on one container, each running for as long as asked. */
export const block = app.function({ maxContainers: 1, concurrent: { maxInputs: 2 }, timeoutMs: 120_000 }, async function block(ms: number) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ms;
});

// Functions that misbehave on purpose, for the end-to-end fault tests.
import { App } from "squall";

export const app = new App("faults");

export const crash = app.function({}, async function crash() {
  process.exit(1);
});

export const hang = app.function({ timeoutMs: 2_000 }, async function hang() {
  await new Promise((resolve) => setTimeout(resolve, 60_000));
  return "finished";
});

export const spin = app.function({ timeoutMs: 2_000 }, function spin() {
  for (;;) {
    // blocks the runner's event loop: only the pool can end this
  }
});

export const echo = app.function({}, async function echo(value: unknown) {
  return value;
});

// A function that calls another function of its own app from inside its container.
import { App } from "squall";

export const app = new App("nested");

export const inner = app.function({}, async function inner(x: number) {
  return x + 1;
});

export const outer = app.function({}, async function outer(x: number) {
  return (await inner.remote(x)) * 10;
});

app.localEntrypoint(async () => {
  console.log(`outer(1) = ${await outer.remote(1)}`);
});

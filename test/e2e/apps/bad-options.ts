import { App } from "squall";

export const app = new App("bad-options");

export const f = app.function({ minContainers: 5, maxContainers: 2 }, async function f() {
  return 1;
});

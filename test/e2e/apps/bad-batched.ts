import { App } from "squall";

export const app = new App("bad-batched");

export const embed = app.function({ batched: { maxBatchSize: 2000, waitMs: 100 } }, async function embed(texts: string[]) {
  return texts;
});

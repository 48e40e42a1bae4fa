// Dynamic batching (issue 16, part 2): functions that take lists and return
// arrays, called with single items.
import { App } from "squall";

export const app = new App("batched");

/** Each caller learns the size of the batch its input ran in. */
export const embed = app.function({ batched: { maxBatchSize: 8, waitMs: 200 }, maxContainers: 1 }, async function embed(texts: string[]) {
  return texts.map((text) => ({ text, length: text.length, batchSize: texts.length }));
});

/** Two parameters: a list of each, one element per caller. */
export const scale = app.function(
  { batched: { maxBatchSize: 16, waitMs: 50 }, concurrent: { maxInputs: 2 }, maxContainers: 2 },
  async function scale(xs: number[], factors: number[]) {
    return xs.map((x, i) => x * factors[i]);
  },
);

/** Returns one result too few. */
export const short = app.function({ batched: { maxBatchSize: 4, waitMs: 100 }, maxContainers: 1 }, async function short(xs: number[]) {
  return xs.slice(1);
});

/** A batched class: each method batches on its instance. */
export const Tokenizer = app.cls(
  { batched: { maxBatchSize: 4, waitMs: 100 }, maxContainers: 1 },
  class Tokenizer {
    constructor(readonly params: { prefix: string }) {}
    async tokenize(texts: string[]): Promise<Array<{ token: string; batchSize: number }>> {
      return texts.map((t) => ({ token: `${this.params.prefix}${t}`, batchSize: texts.length }));
    }
  },
);

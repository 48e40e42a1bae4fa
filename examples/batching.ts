// Dynamic batching: the function takes a list and returns an array; callers
// pass single items, and the platform groups them into batches. Run it with
// `npx squall run examples/batching.ts`.
import { App } from "squall";

export const app = new App("batching");

/** A stand-in for a GPU model that embeds many texts in one pass: one vector per text, in order. */
export const embed = app.function({ batched: { maxBatchSize: 8, waitMs: 100 }, maxContainers: 2 }, async function embed(texts: string[]): Promise<number[][]> {
  return texts.map((text) => [text.length, texts.length]);
});

/** A batched class method: the model is loaded once per container (enter), then serves batches. */
export const Classifier = app.cls(
  { batched: { maxBatchSize: 4, waitMs: 50 } },
  class Classifier {
    constructor(readonly params: { threshold: number }) {}
    async classify(scores: number[]): Promise<string[]> {
      return scores.map((s) => (s >= this.params.threshold ? "positive" : "negative"));
    }
  },
);

/** Returns one result too few: every input of the batch fails. */
export const broken = app.function({ batched: { maxBatchSize: 4, waitMs: 50 } }, async function broken(xs: number[]): Promise<number[]> {
  return xs.slice(1);
});

app.localEntrypoint(async () => {
  // Single items in, single results out.
  const vector = await embed.remote("hello");
  console.log(`embed.remote("hello") = [${vector[0]}, …]`);

  // 20 callers at once: their inputs are grouped into batches of at most 8.
  const texts = Array.from({ length: 20 }, (_, i) => `text number ${i}`);
  const vectors = await Promise.all(texts.map((t) => embed.remote(t)));
  const biggest = Math.max(...vectors.map((v) => v[1]));
  console.log(
    `20 concurrent calls: ${vectors.length} vectors, each its own (${vectors.every((v, i) => v[0] === texts[i].length)}), largest batch ${biggest} (limit 8)`,
  );

  // map() sends single items too, and returns results in order.
  const lengths: number[] = [];
  for await (const v of embed.map(["a", "bb", "ccc"])) lengths.push(v[0]);
  console.log(`map: ${lengths.join(", ")}`);

  const classifier = Classifier.instance({ threshold: 0.5 });
  const labels = await Promise.all([0.1, 0.7, 0.5].map((s) => classifier.classify.remote(s)));
  console.log(`classify: ${labels.join(", ")}`);

  try {
    await broken.remote(1);
  } catch (err) {
    console.log(`broken: ${(err as Error).name}: ${(err as Error).message}`);
  }
});

// Prints from its containers, for the end-to-end tests of `squall logs` and
// of the progress `squall run` shows while a map runs.
import { App } from "squall";

export const app = new App("chatty");

export const shout = app.function({ maxContainers: 2, scaledownWindowMs: 2_000 }, async function shout(word: string) {
  console.log(`shouting ${word}`);
  return word.toUpperCase();
});

app.localEntrypoint(async () => {
  const words = Array.from({ length: 30 }, (_, i) => `word${i}`);
  let shouted = 0;
  for await (const _ of shout.map(words)) shouted++;
  console.log(`shouted ${shouted} words`);
});

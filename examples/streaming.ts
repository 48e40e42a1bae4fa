// Streaming generators: an `async function*` streams what it yields. Run it
// with `npx squall run examples/streaming.ts`.
import { App } from "squall";

export const app = new App("streaming");

/** Tokens of a "generated" answer, one at a time, as a model would produce them. */
export const generate = app.function({ maxContainers: 2, concurrent: { maxInputs: 10 } }, async function* generate(prompt: string) {
  for (const word of `you asked: ${prompt}`.split(" ")) {
    await new Promise((r) => setTimeout(r, 20)); // the work behind each token
    yield word;
  }
});

/** Counts up forever: the caller decides when to stop. */
export const ticker = app.function({ maxContainers: 2, concurrent: { maxInputs: 10 } }, async function* ticker(start: number) {
  for (let i = start; ; i++) yield i;
});

/** Yields a few readings, then fails: the caller gets the readings first, then the error. */
export const sensor = app.function({ maxContainers: 2 }, async function* sensor(readings: number) {
  for (let i = 0; i < readings; i++) yield { reading: i, celsius: 20 + i };
  throw new Error("sensor disconnected");
});

app.localEntrypoint(async () => {
  // Each value arrives as it is yielded.
  const words: string[] = [];
  for await (const word of generate.remoteGen("why is the sky blue?")) words.push(word);
  console.log(`streamed: ${words.join(" ")}`);

  // Breaking out of the loop cancels the call; the generator runs at most a window of values ahead.
  let last = 0;
  for await (const n of ticker.remoteGen(100)) {
    last = n;
    if (n === 104) break;
  }
  console.log(`ticker stopped at ${last}`);

  // An error comes after the values yielded before it.
  const seen: number[] = [];
  try {
    for await (const { celsius } of sensor.remoteGen(3)) seen.push(celsius);
  } catch (err) {
    console.log(`sensor: ${seen.join(", ")} then ${(err as Error).message}`);
  }

  // A spawned generator call is read later, with stream().
  const call = await generate.spawn("spawned");
  const spawned: string[] = [];
  for await (const word of call.stream()) spawned.push(word);
  console.log(`spawned stream: ${spawned.join(" ")}`);

  try {
    await generate.remote("not like this");
  } catch (err) {
    console.log(`remote() of a generator: ${(err as Error).message}`);
  }
});

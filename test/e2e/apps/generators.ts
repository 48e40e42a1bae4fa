// Streaming generators (issue 16, part 3): async function* whose values reach
// the caller as they are yielded. The runners are processes on this machine,
// so the tests signal a generator through files in a directory they pass in.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { App } from "squall";

export const app = new App("generators");

const waitForFile = async (path: string): Promise<void> => {
  while (!existsSync(path)) await new Promise((r) => setTimeout(r, 50));
};

/** Yields "first", then blocks until `dir/release` exists, then yields "second". */
export const gated = app.function({ maxContainers: 2, concurrent: { maxInputs: 10 } }, async function* gated(dir: string) {
  yield "first";
  await waitForFile(join(dir, "release"));
  yield "second";
});

/** Counts forever, writing the last number it yielded to `dir/produced`; its finally writes `dir/finally`. */
export const count = app.function({ maxContainers: 2, concurrent: { maxInputs: 10 } }, async function* count(dir: string) {
  try {
    for (let i = 0; ; i++) {
      writeFileSync(join(dir, "produced"), String(i));
      yield i;
    }
  } finally {
    writeFileSync(join(dir, "finally"), "ran");
  }
});

/** Yields 0..n-1, then throws a RangeError; declared with retries, which a generator that yielded does not use. */
export const failAfter = app.function({ maxContainers: 2, concurrent: { maxInputs: 10 }, retries: 2 }, async function* failAfter(n: number) {
  for (let i = 0; i < n; i++) yield { i, square: i * i };
  throw new RangeError(`gave up after ${n}`);
});

/** A plain async function, for the errors of calling it as a generator. */
export const plain = app.function({ maxContainers: 1 }, async function plain(x: number) {
  return x + 1;
});

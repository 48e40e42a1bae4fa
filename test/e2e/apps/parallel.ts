// Functions for the end-to-end tests of parallel execution: map, starmap,
// forEach, spawn, FunctionCall, exceptions, retries and limits.
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "squall";

export const app = new App("parallel");

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const square = app.function({ maxContainers: 4, concurrent: { maxInputs: 50 } }, async function square(x: number) {
  return x * x;
});

export const add = app.function({ maxContainers: 2, concurrent: { maxInputs: 50 } }, async function add(a: number, b: number) {
  return a + b;
});

/** The 100 000-input map: nothing to do but answer. */
export const noop = app.function({ maxContainers: 4, concurrent: { maxInputs: 100 } }, async function noop(x: number) {
  return x;
});

/** Which container ran an input, after working for `ms`: shows fan-out across containers. */
export const whoAmI = app.function({ maxContainers: 4, scaledownWindowMs: 10_000 }, async function whoAmI(ms: number) {
  await sleep(ms);
  return process.env.SQUALL_CONTAINER_ID ?? "unknown";
});

/** Sleeps `ms` and returns it; inputs running past 4 s time out. */
export const sleepy = app.function({ maxContainers: 2, concurrent: { maxInputs: 20 }, timeoutMs: 4_000 }, async function sleepy(ms: number) {
  await sleep(ms);
  return ms;
});

/** For cancellation: runs for as long as asked. */
export const waitLong = app.function({ maxContainers: 1, concurrent: { maxInputs: 10 }, timeoutMs: 120_000 }, async function waitLong(ms: number) {
  await sleep(ms);
  return ms;
});

export class InputError extends Error {
  override name = "InputError";
  constructor(
    message: string,
    readonly input: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Fails for multiples of 3 with a custom error: a property and a two-level cause chain. */
export const failSome = app.function({ maxContainers: 2, concurrent: { maxInputs: 50 } }, async function failSome(x: number) {
  if (x % 3 === 0) {
    const root = new TypeError(`root cause of ${x}`);
    throw new InputError(`input ${x} is a multiple of 3`, x, { cause: new RangeError(`${x} % 3 === 0`, { cause: root }) });
  }
  return x * 10;
});

const attempts = new Map<string, number[]>();

/** Fails the first `failures` attempts for `key`, then returns the attempt times. One container, so the count is in memory. */
export const flaky = app.function(
  { maxContainers: 1, concurrent: { maxInputs: 10 }, retries: { maxRetries: 3, initialDelayMs: 300, backoffCoefficient: 2, maxDelayMs: 5_000 } },
  async function flaky(key: string, failures: number) {
    const times = [...(attempts.get(key) ?? []), Date.now()];
    attempts.set(key, times);
    if (times.length <= failures) throw Object.assign(new Error(`attempt ${times.length} of ${key} fails`), { attempt: times.length });
    return times;
  },
);

/** Always fails, saying which attempt this was; `retries` as a plain number. */
export const alwaysFails = app.function({ maxContainers: 1, concurrent: { maxInputs: 10 }, retries: 2 }, async function alwaysFails(key: string) {
  const times = [...(attempts.get(key) ?? []), Date.now()];
  attempts.set(key, times);
  throw Object.assign(new Error(`attempt ${times.length} of ${key} failed`), { attempt: times.length });
});

/** Kills its container the first time it sees `key` (remembered on disk), succeeds the next time. No retries declared. */
export const dieOnce = app.function({ maxContainers: 1 }, async function dieOnce(key: string) {
  const marker = join(tmpdir(), `squall-e2e-die-once-${key.replace(/[^\w-]/g, "")}`);
  if (!existsSync(marker)) {
    writeFileSync(marker, String(process.pid));
    process.exit(1);
  }
  return `survived on ${process.env.SQUALL_CONTAINER_ID}`;
});

/**
 * One container taking one input at a time. Every input waits until the file
 * `gate` exists (the test creates it; runners are local processes here), so
 * while the gate is shut everything else waits in the pool's queue and its
 * pending limit decides what is admitted.
 */
export const hold = app.function({ maxContainers: 1, timeoutMs: 180_000 }, async function hold(gate: string, i: number) {
  while (!existsSync(gate)) await sleep(50);
  return i;
});

/** Appends `i` to `file` (one line per execution), so a test can count how often each input ran; returns i². */
export const tally = app.function({ maxContainers: 4, concurrent: { maxInputs: 50 } }, async function tally(input: { file: string; i: number }) {
  appendFileSync(input.file, `${input.i}\n`);
  return input.i * input.i;
});

/** The size of its argument: large inputs, small results. */
export const byteLength = app.function({ maxContainers: 1, concurrent: { maxInputs: 50 } }, async function byteLength(bytes: Uint8Array) {
  return bytes.byteLength;
});

/** A result of `n` bytes (results are limited to 1 015 808 bytes serialized). */
export const bytesOf = app.function({ maxContainers: 1, concurrent: { maxInputs: 10 } }, async function bytesOf(n: number) {
  return new Uint8Array(n).fill(7);
});

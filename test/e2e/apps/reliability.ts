// Functions for the reliability tests (test/e2e/reliability.test.ts and
// restart.test.ts): each run is written down in a file the test reads
// (runners are local processes here), so a test can tell how often and where
// each input ran.
import { appendFileSync, existsSync } from "node:fs";
import { App } from "squall";

export const app = new App("reliability");

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface Tracked {
  i: number;
  square: number;
  container: string;
}

/**
 * Notes "<i> <container>" in `log` as it starts, works `ms`, and answers.
 * A few containers, many inputs each, so a map keeps every container busy.
 */
export const tracked = app.function(
  { maxContainers: 3, concurrent: { maxInputs: 25 }, scaledownWindowMs: 10_000 },
  async function tracked(item: { i: number; log: string; ms: number }): Promise<Tracked> {
    const container = process.env.SQUALL_CONTAINER_ID ?? "unknown";
    appendFileSync(item.log, `${item.i} ${container}\n`);
    await sleep(item.ms);
    return { i: item.i, square: item.i * item.i, container };
  },
);

/** The same for spawned calls: a slower pool (2 containers, 10 inputs each), so thousands of calls stay pending a while. */
export const tally = app.function(
  { maxContainers: 2, concurrent: { maxInputs: 10 }, scaledownWindowMs: 10_000 },
  async function tally(item: { i: number; log: string; ms: number }): Promise<number> {
    appendFileSync(item.log, `${item.i} ${process.env.SQUALL_CONTAINER_ID ?? "unknown"}\n`);
    await sleep(item.ms);
    return item.i * 3;
  },
);

/** `tracked` with a short timeoutMs: an input the platform loses track of fails in seconds instead of 5 minutes. */
export const trackedQuickTimeout = app.function(
  { maxContainers: 3, concurrent: { maxInputs: 25 }, scaledownWindowMs: 10_000, timeoutMs: 8_000 },
  async function trackedQuickTimeout(item: { i: number; log: string; ms: number }): Promise<Tracked> {
    const container = process.env.SQUALL_CONTAINER_ID ?? "unknown";
    appendFileSync(item.log, `${item.i} ${container}\n`);
    await sleep(item.ms);
    return { i: item.i, square: item.i * item.i, container };
  },
);

/**
 * Several inputs at once on one container, with a short timeoutMs. An input
 * with `gate` waits until that file exists (the test creates it), so it is
 * still running on the container when another input there times out.
 */
export const sharedTimeout = app.function(
  { maxContainers: 1, concurrent: { maxInputs: 3 }, timeoutMs: 5_000, scaledownWindowMs: 10_000 },
  async function sharedTimeout(item: { i: number; log: string; ms: number; gate?: string }): Promise<Tracked> {
    const container = process.env.SQUALL_CONTAINER_ID ?? "unknown";
    appendFileSync(item.log, `${item.i} ${container}\n`);
    if (item.gate) while (!existsSync(item.gate)) await sleep(20);
    else await sleep(item.ms);
    return { i: item.i, square: item.i * item.i, container };
  },
);

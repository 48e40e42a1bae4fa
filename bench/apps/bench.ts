// The app `npm run bench` deploys (scripts/bench.ts). The directly driven
// runner loads this same bundle, and the BullMQ worker imports the same
// bodies (./bodies.ts), so every side runs identical code.
import { App } from "squall";
import { noopBody, sleepBody } from "./bodies";

export const app = new App("squall-bench");

/**
 * One container with 100 input slots, like the single BullMQ worker with
 * concurrency 100 and the single directly driven runner: same processes on
 * every side, so the numbers compare the path an input takes, not how many
 * CPUs each side got. Kept warm for the whole run.
 */
const oneWarmContainer = { maxContainers: 1, concurrent: { maxInputs: 100 }, scaledownWindowMs: 3_600_000 } as const;

export const noop = app.function(oneWarmContainer, async function noop(x: number) {
  return noopBody(x);
});

/**
 * Workload 2b: the same no-op on default concurrency (one input per
 * container at a time) and up to 4 containers: each input pays the whole
 * pool → container → pool round trip, so this measures that round trip.
 */
export const noopDefault = app.function({ maxContainers: 4, scaledownWindowMs: 3_600_000 }, async function noopDefault(x: number) {
  return noopBody(x);
});

/** Workload 4: the same no-op in a pool of its own, so 100 000 spawned calls leave the other pools' storage alone. */
export const spawnNoop = app.function(oneWarmContainer, async function spawnNoop(x: number) {
  return noopBody(x);
});

export const sleep10 = app.function(oneWarmContainer, async function sleep10(x: number) {
  return sleepBody(x, 10);
});

/** Workload 5: a burst at zero containers; says which container ran it and when it started. */
export const burst = app.function({ maxContainers: 20, scaledownWindowMs: 2_000 }, async function burst(x: number) {
  const startedAt = Date.now();
  await sleepBody(x, 2_000);
  return { x, container: process.env.SQUALL_CONTAINER_ID ?? "", startedAt };
});

/**
 * Workload 6 (pool storage): one container, one slot. A long input holds the
 * slot, so spawned calls admitted behind it stay pending while the pool's
 * SQLite file is measured.
 */
export const parked = app.function({ maxContainers: 1, scaledownWindowMs: 2_000, timeoutMs: 600_000 }, async function parked(x: number) {
  return sleepBody(x, x < 0 ? 600_000 : 0);
});

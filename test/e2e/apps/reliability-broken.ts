// An app that cannot start in a container: its module top level fails only
// where the platform runs it (SQUALL_CONTAINER_ID is set), so `squall deploy`
// (which imports it locally) succeeds. Each container start is noted in a
// file per function first, so the test can count how often the pool tried.
import { appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "squall";

export const app = new App("reliability-broken");

/** Where the starts of `fn`'s containers are noted (the test reads it; runners inherit TMPDIR). */
export function startsFile(fn: string): string {
  return join(tmpdir(), `squall-e2e-broken-starts-${fn}`);
}

const containerId = process.env.SQUALL_CONTAINER_ID;
const target = process.env.SQUALL_FUNCTION;
if (containerId && target) {
  appendFileSync(startsFile(target), `${containerId}\n`);
  if (target === "crashesOnStart") process.exit(3);
  if (target === "throwsOnStart" || target === "warmButBroken") throw new Error("this bundle only loads outside containers");
  if (target === "hangsOnStart") await new Promise<never>(() => undefined); // the import never finishes: never ready
}

export const throwsOnStart = app.function({ maxContainers: 2 }, async function throwsOnStart(x: number) {
  return x;
});

export const crashesOnStart = app.function({ maxContainers: 2 }, async function crashesOnStart(x: number) {
  return x;
});

export const hangsOnStart = app.function({ maxContainers: 2, startupTimeoutMs: 2_000 }, async function hangsOnStart(x: number) {
  return x;
});

/** A warm pool of a broken bundle: minContainers asks for a container even with nothing to run. */
export const warmButBroken = app.function({ minContainers: 1, maxContainers: 2 }, async function warmButBroken(x: number) {
  return x;
});

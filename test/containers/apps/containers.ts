// Functions that report where they ran, for the real-container suite.
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { App } from "squall";

export const app = new App("containers");

interface Where {
  /** Docker writes /.dockerenv into every container it runs. */
  inDocker: boolean;
  hostname: string;
  pid: number;
}

function where(): Where {
  return { inDocker: existsSync("/.dockerenv"), hostname: hostname(), pid: process.pid };
}

export const square = app.function({}, async function square(x: number): Promise<{ value: number; where: Where }> {
  return { value: x * x, where: where() };
});

/** Holds each input a while, so a map needs several containers and a container can be killed mid-map. */
export const slowSquare = app.function({ maxContainers: 3, scaledownWindowMs: 2_000, timeoutMs: 120_000 }, async function slowSquare(x: number): Promise<{
  value: number;
  where: Where;
}> {
  await new Promise((r) => setTimeout(r, 400));
  return { value: x * x, where: where() };
});

// Issue 12 point 1 on the real local platform: a map far larger than the
// local container host can run at once, on default settings, completes (the
// pool waits for room instead of failing its inputs), and so does a second
// burst once the pool has gone idle.
import { describe, it, expect, beforeAll } from "vitest";
import { inject } from "vitest";
import { type FunctionStats } from "../../sdk/src/index";
import type { HostHealth } from "../../sdk/src/wire/host";
import { client, deploy, eventually, sleep } from "./helpers";

const INPUTS = 8_000;

async function hostContainerCount(): Promise<number> {
  const res = await fetch(`${inject("squallHostUrl")}/containers`);
  const body = (await res.json()) as { containers: Array<{ state: string }> };
  return body.containers.filter((c) => c.state === "running").length;
}

describe("a map larger than the local host", () => {
  let limits: HostHealth["limits"];

  beforeAll(async () => {
    await deploy("test/e2e/apps/capacity.ts");
    limits = ((await (await fetch(`${inject("squallHostUrl")}/healthz`)).json()) as HostHealth).limits;
    // The point is a map larger than the host: the platform runs with the machine's default limits.
    expect(limits.maxContainers).toBeLessThan(INPUTS);
  });

  it(`${INPUTS} inputs of a 50 ms function on default settings complete, twice, with the pool idle in between`, async () => {
    const evaluate = await client().functions.fromName<[number], number>("capacity", "evaluate");
    const xs = Array.from({ length: INPUTS }, (_, i) => i);
    for (const burst of [1, 2]) {
      let heldBack: FunctionStats["startsHeldBack"] = null;
      let peakContainers = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const s = await evaluate.getCurrentStats();
          heldBack ??= s.startsHeldBack ?? null;
          peakContainers = Math.max(peakContainers, await hostContainerCount());
          await sleep(250);
        }
      })();
      const results: number[] = [];
      for await (const y of evaluate.map(xs)) results.push(y);
      sampling = false;
      await sampler;
      expect(results, `burst ${burst}`).toEqual(xs.map((x) => x * 2));
      // The pool wanted a container per input; the host's limit held it back, and it said so.
      expect(heldBack, `burst ${burst}`).toMatchObject({ reason: "capacity" });
      expect(peakContainers).toBeLessThanOrEqual(limits.maxContainers);
      await eventually("the pool idle at zero containers", async () => ((await evaluate.getCurrentStats()).containers.total === 0 ? true : undefined), 60_000);
    }
  }, 600_000);
});

// Issue "Real, bounded compute", point 4: the production compute backend —
// the Runner container class (@cloudflare/containers) — starting real
// containers built from the project's Dockerfile on a local Docker engine,
// driven through the real CLI and SDK.
import { once } from "node:events";
import { describe, it, expect, beforeAll, inject } from "vitest";
import WebSocket from "ws";
import { Http } from "../../sdk/src/http";
import { ROUTES, decode, encode, type ChannelAnswer, type ChannelCall } from "../../sdk/src/wire";
import { RemoteError, type FunctionStats } from "../../sdk/src/index";
import { eventually, sleep } from "../fixtures/wait";
import { client, deploy, docker, ranOn, runnerContainers, skipped, type RunnerContainer } from "./helpers";

interface Where {
  inDocker: boolean;
  hostname: string;
}

describe.skipIf(skipped)("real containers (the Runner container class on Docker)", () => {
  beforeAll(async () => {
    await deploy("test/containers/apps/containers.ts");
  });

  it("answers a remote call from a Docker container", async () => {
    const square = await client().functions.fromName<[number], { value: number; where: Where }>("containers", "square");
    const result = await square.remote(12);
    expect(result.value).toBe(144);
    expect(result.where.inDocker).toBe(true);
    // The hostname is a container Docker runs for this platform (the runner or the sidecar whose network it shares).
    const ids = (await docker(["ps", "-q", "--no-trunc", "--filter", "name=^/workerd-squall-"])).split("\n").filter(Boolean);
    expect(ids.some((id) => id.startsWith(result.where.hostname))).toBe(true);
  });

  it("answers remote calls on a call channel, through wrangler dev's proxy to the pool", async () => {
    const url = inject("squallUrl");
    const token = inject("squallToken");
    const { functionId } = await new Http(url, token).send(ROUTES.lookupFunction, { params: { app: "containers", name: "square" } });
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/v1/functions/${functionId}/channel`, { headers: { authorization: `Bearer ${token}` } });
    await once(ws, "open");
    try {
      const answered = once(ws, "message");
      ws.send(encode({ id: 0, requestId: `containers-${crypto.randomUUID()}`, args: encode([7]), waitMs: 60_000 } satisfies ChannelCall));
      const [data] = (await answered) as [Buffer];
      const answer = decode<ChannelAnswer>(new Uint8Array(data));
      if (!("outputs" in answer)) throw new Error(`the channel answered ${JSON.stringify(answer)}`);
      expect(answer.id).toBe(0);
      expect(decode<{ value: number; where: Where }>(answer.outputs[0].value)).toMatchObject({ value: 49, where: { inDocker: true } });
    } finally {
      ws.close();
    }
  });

  it("spreads a map over several containers without exceeding maxContainers, then scales to zero", async () => {
    const fn = await client().functions.fromName<[number], { value: number; where: Where }>("containers", "slowSquare");
    // Containers of other pools (the first test's) may still run: count only the ones this map brings.
    const before = new Set((await runnerContainers()).map((c) => c.id));
    let peakContainers = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const ours = (await runnerContainers()).filter((c) => !before.has(c.id));
        peakContainers = Math.max(peakContainers, ours.length);
        await sleep(100);
      }
    })();
    const inputs = Array.from({ length: 30 }, (_, i) => i);
    const outputs: Array<{ value: number; where: Where }> = [];
    for await (const out of fn.map(inputs)) outputs.push(out);
    sampling = false;
    await sampler;

    expect(outputs.map((o) => o.value)).toEqual(inputs.map((x) => x * x));
    const hosts = new Set(outputs.map((o) => o.where.hostname));
    expect(hosts.size).toBeGreaterThan(1);
    expect(hosts.size).toBeLessThanOrEqual(3);
    expect(peakContainers).toBeGreaterThan(1);
    expect(peakContainers).toBeLessThanOrEqual(3);

    // scaledownWindowMs is 2 s: the pool stops its containers, and Docker runs none of them.
    await eventually("the pool to scale to zero", async () => ((await fn.getCurrentStats()).containers.total === 0 ? true : undefined), 60_000);
    await eventually(
      "Docker to run none of the map's containers",
      async () => ((await runnerContainers()).every((c) => before.has(c.id)) ? true : undefined),
      30_000,
    );
  });

  it("runs again the inputs of a container killed with `docker kill` mid-map", async () => {
    const fn = await client().functions.fromName<[number], { value: number; where: Where }>("containers", "slowSquare");
    const inputs = Array.from({ length: 36 }, (_, i) => i);
    const outputs: Array<{ value: number; where: Where }> = [];
    let victim: RunnerContainer | null = null;
    for await (const out of fn.map(inputs)) {
      outputs.push(out);
      if (victim === null && outputs.length === 6) {
        // One of this map's containers: it runs inputs of the map right now.
        const mine = new Set(outputs.map((o) => o.where.hostname));
        const running = (await runnerContainers()).filter((c) => [...mine].some((h) => ranOn(h, c)));
        expect(running.length).toBeGreaterThan(0);
        victim = running[0];
        await docker(["kill", victim.id]);
      }
    }
    expect(victim).not.toBeNull();
    // Every input's output, once, in order: those that were on the killed container ran again elsewhere
    // (had the pool waited for their timeoutMs instead, they would have failed with FunctionTimeoutError).
    expect(outputs.map((o) => o.value)).toEqual(inputs.map((x) => x * x));
    const stats: FunctionStats = await fn.getCurrentStats();
    expect(stats.runningInputs).toBe(0);
  });

  it("fails the inputs of a bundle that cannot start, naming the cause", async () => {
    await deploy("test/containers/apps/broken.ts");
    const never = await client().functions.fromName<[], number>("containers-broken", "never");
    const error = await never.remote().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as Error).message).toMatch(/failed to start 3 times/);
    expect((error as Error).message).toMatch(/this bundle refuses to load in a container/);
  });
});

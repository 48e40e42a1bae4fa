// Issue "Reliability and security", end to end on the shared local platform:
// a runner killed in the middle of a 10 000-input map, a client whose
// connection drops mid-map, bundles that cannot start in a container, and the
// per-container secret on the runner's channel and the bundle download.
// (A platform restart needs a platform of its own: restart.test.ts.)
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { inject } from "vitest";
import { connect } from "node:net";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, FunctionTimeoutError, RemoteError } from "../../sdk/src/index";
import type { ListContainersResponse } from "../../sdk/src/host/index";
import { deploy, eventually, sleep, squall } from "./helpers";
import { channelOpened, throughProxy } from "./flaky-proxy";

interface Tracked {
  i: number;
  square: number;
  container: string;
}

const client = (): Client => new Client({ url: inject("squallUrl"), token: inject("squallToken") });
const trackedOf = (c: Client) => c.functions.fromName<[{ i: number; log: string; ms: number }], Tracked>("reliability", "tracked");
const dir = mkdtempSync(join(tmpdir(), "squall-reliability-"));

async function hostContainers(): Promise<ListContainersResponse["containers"]> {
  const res = await fetch(`${inject("squallHostUrl")}/containers`);
  expect(res.status).toBe(200);
  return ((await res.json()) as ListContainersResponse).containers;
}

/** "<i> <container>" lines the function wrote as each run started. */
function runsIn(log: string): Array<{ i: number; container: string }> {
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [i, container] = line.split(" ");
      return { i: Number(i), container };
    });
}

beforeAll(async () => {
  await deploy("test/e2e/apps/reliability.ts");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("a runner killed mid-map", () => {
  it("kill -9 of a runner during a 10 000-input map: exactly 10 000 correct outputs, its inputs re-run, a replacement started", async () => {
    const tracked = await trackedOf(client());
    const log = join(dir, "kill.log");
    const n = 10_000;
    const outputs: Tracked[] = [];
    let killed: { id: string; pid: number; atMs: number; outputsBefore: number } | null = null;
    // 100 ms an input on 3 containers of 25 slots: about 750 inputs/s, slower than the SDK feeds them,
    // so the pool always has a queue and every container is busy when the kill comes.
    const stream = tracked.map(Array.from({ length: n }, (_, i) => ({ i, log, ms: 100 })));
    for await (const out of stream) {
      outputs.push(out);
      if (!killed && outputs.length === 2_000) {
        // A runner that served this map and is running now: SIGKILL, no chance to flush or say goodbye.
        const serving = new Set(outputs.map((o) => o.container));
        const victim = (await hostContainers()).find((c) => c.state === "running" && serving.has(c.id));
        expect(victim, "a running container of this map").toBeDefined();
        process.kill(victim!.pid, "SIGKILL");
        killed = { id: victim!.id, pid: victim!.pid, atMs: Date.now(), outputsBefore: outputs.length };
      }
    }
    expect(killed).not.toBeNull();
    // Every output once, in order, correct.
    expect(outputs).toHaveLength(n);
    outputs.forEach((o, i) => {
      expect(o.i).toBe(i);
      expect(o.square).toBe(i * i);
    });
    // The kill landed mid-map, on a container that was running inputs: some of them started there and finished elsewhere.
    expect(killed!.outputsBefore).toBeLessThan(n);
    const runs = runsIn(log);
    const startedOnVictim = new Set(runs.filter((r) => r.container === killed!.id).map((r) => r.i));
    const rerun = outputs.filter((o) => startedOnVictim.has(o.i) && o.container !== killed!.id);
    expect(rerun.length, "inputs lost with the killed container and re-run elsewhere").toBeGreaterThan(0);
    for (const o of rerun) expect(runs.filter((r) => r.i === o.i).length).toBeGreaterThanOrEqual(2);
    // Nothing came back from the dead container after the kill... and a replacement started after it, and served the map.
    const exited = (await hostContainers()).find((c) => c.id === killed!.id);
    expect(exited).toMatchObject({ state: "exited", signal: "SIGKILL" });
    const replacements = (await hostContainers()).filter((c) => c.startedAt > killed!.atMs && outputs.some((o) => o.container === c.id));
    expect(replacements.length, "a container started after the kill that ran inputs of the map").toBeGreaterThan(0);
    // Inputs that never met the killed container ran exactly once.
    const counts = new Map<number, number>();
    for (const r of runs) counts.set(r.i, (counts.get(r.i) ?? 0) + 1);
    const repeatedElsewhere = [...counts].filter(([i, c]) => c > 1 && !startedOnVictim.has(i));
    expect(repeatedElsewhere).toEqual([]);
  }, 180_000);
});

describe("a client whose connection drops mid-map", () => {
  it("reconnects and resumes: each output reaches the caller exactly once", async () => {
    await throughProxy(async (proxy, c) => {
      const tracked = await trackedOf(c);
      const log = join(dir, "drop.log");
      const n = 5_000;
      const seen = new Map<number, number>();
      const drops: number[] = [];
      // As completed, so the SDK's own bookkeeping is what keeps repeats out (nothing reorders them away).
      for await (const out of tracked.map(
        Array.from({ length: n }, (_, i) => ({ i, log, ms: 5 })),
        { orderOutputs: false },
      )) {
        seen.set(out.i, (seen.get(out.i) ?? 0) + 1);
        expect(out.square).toBe(out.i * out.i);
        if (seen.size === 1_000 || seen.size === 2_500 || seen.size === 3_500) {
          if (!drops.includes(seen.size)) {
            drops.push(seen.size);
            proxy.drop(1_500);
          }
        }
      }
      expect(drops).toEqual([1_000, 2_500, 3_500]);
      expect(proxy.dropped, "open connections cut").toBeGreaterThan(0);
      expect(proxy.refused, "reconnects refused while the network was down").toBeGreaterThan(0);
      // The map's inputs and reads went on a call channel, cut with the rest and opened again after a drop.
      expect(proxy.channelUpgrades, "call channels opened").toBeGreaterThan(1);
      expect(seen.size).toBe(n);
      expect([...seen.values()].every((c) => c === 1)).toBe(true);
      // Every input ran exactly once: a batch resent after its answer was lost is recognised by its idx.
      const runs = runsIn(log);
      expect(new Set(runs.map((r) => r.i)).size).toBe(n);
      expect(runs).toHaveLength(n);
      console.log(`connection drops: ${proxy.dropped} connections cut, ${proxy.refused} refused; ${runs.length - n} inputs ran more than once`);
    });
  }, 180_000);
});

describe("a remote() whose connection drops while it waits", () => {
  it("sends its request again and gets the call the first one started: one run, its result returned", async () => {
    await throughProxy(async (proxy, c) => {
      const tracked = await trackedOf(c);
      const log = join(dir, "remote-drop.log");
      const result = tracked.remote({ i: 7, log, ms: 3_000 });
      await eventually("the call to start running", async () => (runsIn(log).length > 0 ? true : undefined), 60_000);
      proxy.drop(500); // the remote's request, waiting for the output, is cut
      expect((await result).square).toBe(49);
      expect(proxy.dropped).toBeGreaterThan(0);
      expect(runsIn(log)).toHaveLength(1);
    });
  }, 120_000);

  it("on a call channel: the call goes again over HTTP with its request id and gets the call the frame started", async () => {
    await throughProxy(async (proxy, c) => {
      const tracked = await trackedOf(c);
      const log = join(dir, "channel-drop.log");
      await channelOpened(proxy, () => tracked.remote({ i: 0, log: join(dir, "channel-warm.log"), ms: 0 }));
      const postsBefore = proxy.callPosts;
      const result = tracked.remote({ i: 8, log, ms: 3_000 });
      await eventually("the call to start running", async () => (runsIn(log).length > 0 ? true : undefined), 60_000);
      expect(proxy.callPosts, "the call went on the channel, not over HTTP").toBe(postsBefore);
      proxy.drop(500); // the channel, with the call waiting on it, is cut
      expect((await result).square).toBe(64);
      expect(proxy.callPosts, "sent again over HTTP").toBeGreaterThan(postsBefore);
      expect(runsIn(log)).toHaveLength(1);
    });
  }, 120_000);
});

describe("an input that times out on a container running others", () => {
  it("fails with FunctionTimeoutError; the others finish there and run once; then the container is replaced", async () => {
    const fn = await client().functions.fromName<[{ i: number; log: string; ms: number; gate?: string }], Tracked>("reliability", "sharedTimeout");
    const log = join(dir, "timeout.log");
    const gate = join(dir, "timeout.gate");
    const slow = fn.remote({ i: 0, log, ms: 60_000 }).then(
      () => null,
      (e: Error) => e,
    );
    await eventually("input 0 to start", async () => (runsIn(log).length > 0 ? true : undefined), 60_000);
    // Two more join it on the same container (maxInputs 3), later, so they are still running when input 0's 5 s run out.
    await sleep(2_000);
    const others = [1, 2].map((i) => fn.remote({ i, log, ms: 0, gate }));
    await eventually("inputs 1 and 2 to start", async () => (runsIn(log).length === 3 ? true : undefined), 10_000);
    const err = await slow;
    expect(err).toBeInstanceOf(FunctionTimeoutError);
    writeFileSync(gate, "go");
    const done = await Promise.all(others);
    const container = runsIn(log)[0].container;
    expect(done.map((o) => o.container)).toEqual([container, container]);
    // Each ran once: the timeout did not take their container from under them.
    expect(
      runsIn(log)
        .map((r) => r.i)
        .sort(),
    ).toEqual([0, 1, 2]);
    // The container that held the timed-out code goes once it is empty.
    await eventually(
      "the container to be stopped",
      async () => ((await hostContainers()).find((c) => c.id === container)?.state === "exited" ? true : undefined),
      30_000,
    );
  }, 120_000);
});

describe("bundles that cannot start in a container", () => {
  const startsFile = (fn: string): string => join(tmpdir(), `squall-e2e-broken-starts-${fn}`);
  const starts = (fn: string): number => (existsSync(startsFile(fn)) ? readFileSync(startsFile(fn), "utf8").trim().split("\n").filter(Boolean).length : 0);

  beforeAll(async () => {
    for (const fn of ["throwsOnStart", "crashesOnStart", "hangsOnStart", "warmButBroken"]) rmSync(startsFile(fn), { force: true });
    await deploy("test/e2e/apps/reliability-broken.ts");
  });

  afterAll(async () => {
    // The warm pool would keep trying: take the app away.
    await squall(["app", "stop", "reliability-broken"]);
  });

  it.each([
    ["throwsOnStart", /failed to start 3 times: .*this bundle only loads outside containers/],
    ["crashesOnStart", /failed to start 3 times: .*exited with code 3/],
    ["hangsOnStart", /failed to start 3 times: container did not become ready within 2 s \(startupTimeoutMs\)/],
  ])(
    "%s: inputs fail with a clear error after bounded retries, and the pool stops starting containers",
    async (name, message) => {
      const fn = await client().functions.fromName<[number], number>("reliability-broken", name);
      const started = Date.now();
      const results = await Promise.all(
        [fn.remote(1), ...[2, 3].map((x) => fn.remote(x))].map((p) =>
          p.then(
            () => null,
            (e: Error) => e,
          ),
        ),
      );
      for (const err of results) {
        expect(err).toBeInstanceOf(RemoteError);
        expect(err!.message).toMatch(message);
      }
      expect(Date.now() - started).toBeLessThan(60_000);
      // A start already under way when the last failure came may still run: wait until the pool has no container at all.
      await eventually(
        `${name}'s pool to hold no container`,
        async () => {
          const s = await fn.getCurrentStats();
          return s.containers.total === 0 ? true : undefined;
        },
        30_000,
      );
      const afterFailure = starts(name);
      expect(afterFailure).toBeGreaterThanOrEqual(3);
      expect(afterFailure).toBeLessThanOrEqual(6); // a few at once, not one per retry forever
      // With nothing left to run, no container is started again (watched for 20 s).
      const watchUntil = Date.now() + 20_000;
      while (Date.now() < watchUntil) {
        expect(starts(name)).toBe(afterFailure);
        await sleep(1_000);
      }
      const stats = await fn.getCurrentStats();
      expect(stats.containers.total).toBe(0);
      expect(stats.backlog).toBe(0);
    },
    120_000,
  );

  it("a warm pool of a broken bundle backs off instead of starting containers back to back", async () => {
    // minContainers: 1 asks for a container with nothing to run; each start fails at once. It has been at it since the deploy.
    await eventually("the warm pool's first start", async () => (starts("warmButBroken") > 0 ? true : undefined), 30_000);
    const before = starts("warmButBroken");
    const watchMs = 20_000;
    await sleep(watchMs);
    const n = starts("warmButBroken") - before;
    // Back to back, a failing start takes well under a second (20 s: dozens). Backing off, the pool tries
    // 3 times, then waits 30 s: any 20 s holds at most one round and the end of another.
    expect(n, `${n} container starts in ${watchMs / 1000} s`).toBeLessThanOrEqual(6);
  }, 90_000);
});

describe("the per-container secret", () => {
  /** An HTTP/1.1 request on a raw socket, returning the status line (a refused WebSocket upgrade answers plain HTTP). */
  function statusLine(port: number, headers: Record<string, string>): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => {
        const lines = [
          "GET /connect HTTP/1.1",
          `Host: 127.0.0.1:${port}`,
          "Connection: Upgrade",
          "Upgrade: websocket",
          "Sec-WebSocket-Version: 13",
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        ];
        for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
        socket.write(lines.join("\r\n") + "\r\n\r\n");
      });
      let data = "";
      socket.on("data", (chunk) => {
        data += chunk.toString();
        if (data.includes("\r\n")) {
          resolve(data.split("\r\n")[0]);
          socket.destroy();
        }
      });
      socket.on("error", reject);
      socket.setTimeout(5_000, () => reject(new Error("no answer")));
    });
  }

  it("a runner refuses its pool channel without the container's secret, and the Worker refuses the bundle download", async () => {
    const tracked = await trackedOf(client());
    const { container } = await tracked.remote({ i: 1, log: join(dir, "secret.log"), ms: 0 });
    const runner = (await hostContainers()).find((c) => c.id === container && c.state === "running");
    expect(runner).toBeDefined();
    const refused: Array<Record<string, string>> = [
      {},
      { Authorization: "Bearer" },
      { Authorization: "Bearer wrong" },
      { Authorization: `Bearer ${inject("squallToken")}` },
      { Authorization: `Bearer ${"0".repeat(64)}` },
    ];
    for (const headers of refused) expect(await statusLine(runner!.port, headers)).toMatch(/^HTTP\/1\.1 401/);
    // The channel the pool holds is untouched: the container still serves.
    expect((await tracked.remote({ i: 2, log: join(dir, "secret.log"), ms: 0 })).container).toBe(container);

    const list = JSON.parse((await squall(["app", "list", "--json"])).stdout) as { apps: Array<{ name: string; deploymentId: string }> };
    const deploymentId = list.apps.find((a) => a.name === "reliability")!.deploymentId;
    const bundleUrl = `${inject("squallUrl")}/v1/internal/bundles/${deploymentId}?container=${container}`;
    for (const headers of [{}, { authorization: `Bearer ${inject("squallToken")}` }, { authorization: `Bearer ${"0".repeat(64)}` }] as Array<
      Record<string, string>
    >) {
      const res = await fetch(bundleUrl, { headers });
      expect(res.status).toBe(401);
      expect(await res.text()).not.toMatch(/tracked/);
    }
  }, 60_000);
});

// The Squall side: the real local platform (wrangler dev + local container
// host + runner processes) on a free port with a temp persistTo and a fresh
// workspace, the bench app deployed, and the SDK calling it.
import { fork } from "node:child_process";
import { Server, type IncomingMessage } from "node:http";
import { join } from "node:path";
import { buildManifest, loadApp } from "../../sdk/src/cli/load-app";
import { Http } from "../../sdk/src/http";
import { Client } from "../../sdk/src/index";
import type { FunctionHandle } from "../../sdk/src/function";
import { ROUTES, encode, type FunctionStats, type ListContainersResponse } from "../../sdk/src/wire";
import { ROOT, freePort, startLocalPlatform, type LocalPlatform } from "../platform";
import { poolStorage, type PoolStorage } from "./sqlite-size";
import { percentile, sleep, until } from "./stats";

export const APP_FILE = join(ROOT, "bench", "apps", "bench.ts");
export const APP_NAME = "squall-bench";

type Fn<A extends unknown[], R> = FunctionHandle<A, R>;

/**
 * When each POST /containers reached the local container host (which runs in
 * this process): the moment the pool asked for a container. Recorded by
 * wrapping http.Server's emit, the one place every request passes, before
 * the host parses the body, picks a port or spawns anything.
 */
const containerRequests: number[] = [];
let hooked = false;
function hookContainerRequests(): void {
  if (hooked) return;
  hooked = true;
  const emit = Server.prototype.emit as (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
  Server.prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === "request") {
      const req = args[0] as IncomingMessage;
      if (req.method === "POST" && req.url === "/containers") containerRequests.push(Date.now());
    }
    return emit.call(this, event, ...args);
  } as typeof Server.prototype.emit;
}
export interface BurstResult {
  firstRequestedMs: number;
  firstSpawnedMs: number;
  allReadyMs: number;
  completeMs: number;
  containers: number;
  firstInputOnLastContainerMs: number;
}

export interface BurstOutput {
  x: number;
  container: string;
  startedAt: number;
}

export class SquallSide {
  private constructor(
    readonly platform: LocalPlatform,
    readonly token: string,
    readonly client: Client,
    readonly bundle: string,
  ) {}

  /** Starts the platform, creates a workspace and deploys bench/apps/bench.ts. */
  static async start(stateDir: string, options: { verbose: boolean; log: (line: string) => void }): Promise<SquallSide> {
    hookContainerRequests();
    const { registered, bundle } = await loadApp(APP_FILE);
    const manifest = buildManifest(registered, APP_NAME);
    const platform = await startLocalPlatform({ port: await freePort(), persistTo: stateDir, verbose: options.verbose, log: options.log });
    try {
      const token = await platform.createWorkspace("bench");
      await new Http(platform.url, token).send(ROUTES.deploy, { params: { app: APP_NAME }, body: { manifest, bundle } });
      return new SquallSide(platform, token, new Client({ url: platform.url, token }), bundle);
    } catch (err) {
      await platform.close();
      throw err;
    }
  }

  fn<A extends unknown[], R>(name: string): Promise<Fn<A, R>> {
    return this.client.functions.fromName<A, R>(APP_NAME, name);
  }

  /** `.remote()` one at a time; each round trip in ms. */
  async roundTrips(fn: Fn<[number], number>, n: number, warmup: number): Promise<number[]> {
    const samples: number[] = [];
    for (let i = 0; i < warmup + n; i++) {
      const t = performance.now();
      const value = await fn.remote(i);
      const ms = performance.now() - t;
      if (value !== i) throw new Error(`remote returned ${value} for ${i}`);
      if (i >= warmup) samples.push(ms);
    }
    return samples;
  }

  /**
   * Where a warm round trip's time goes, layer by layer (p50 ms of n
   * requests each): the Worker alone (a request refused by auth: no I/O at
   * all), + one D1 query (GET /v1/health), + auth + one pool RPC (GET
   * outputs of a finished call: no D1, no runner), getCurrentStats (auth,
   * the cached function resolution, two pool RPCs), a remote call started
   * over HTTP (as `.remote()` starts a pool's first call, and every call
   * where no channel can be used), and the whole `.remote()` (on the
   * pool's call channel).
   */
  async layers(fn: Fn<[number], number>, n: number): Promise<Record<string, number>> {
    const http = new Http(this.platform.url, this.token);
    const call = await fn.spawn(1);
    await call.get();
    const time = async (f: () => Promise<unknown>): Promise<number> => {
      const s: number[] = [];
      for (let i = 0; i < n + 10; i++) {
        const t = performance.now();
        await f();
        if (i >= 10) s.push(performance.now() - t);
      }
      return Math.round(percentile(s, 50) * 100) / 100;
    };
    // Every layer through the SDK's own transport (node:http, kept alive), as `.remote()` and BullMQ's client use theirs.
    // No token at all ("Bearer " and nothing): refused before any lookup, so no I/O.
    const refused = new Http(this.platform.url, "");
    const { functionId } = await http.send(ROUTES.lookupFunction, { params: { app: APP_NAME, name: fn.name } });
    return {
      workerOnly: await time(() => refused.send(ROUTES.getOutputs, { params: { callId: call.id }, query: {} }).catch(() => undefined)),
      workerAndD1: await time(() => http.send(ROUTES.health, {})),
      authAndPoolRpc: await time(() => http.send(ROUTES.getOutputs, { params: { callId: call.id }, query: { cursor: 0, waitMs: 0 } })),
      stats: await time(() => fn.getCurrentStats()),
      remoteHttp: await time(() =>
        http.send(ROUTES.createCall, {
          params: { functionId },
          body: { kind: "remote", inputs: [{ idx: 0, args: encode([1]) }], closed: true, waitMs: 25_000, requestId: crypto.randomUUID() },
        }),
      ),
      remote: await time(() => fn.remote(1)),
    };
  }

  /** `.map` over 0..n-1, consuming every output; elapsed ms. */
  async map(fn: Fn<[number], number>, n: number): Promise<number> {
    const t = performance.now();
    let expected = 0;
    for await (const y of fn.map(range(n))) {
      if (y !== expected) throw new Error(`map output ${expected} was ${y}`);
      expected++;
    }
    if (expected !== n) throw new Error(`map yielded ${expected} of ${n} outputs`);
    return performance.now() - t;
  }

  /**
   * spawnMap of n inputs: how long admission takes (spawnMap returning every
   * call id), and how long until every spawned call has run (the pool's
   * backlog and running inputs both at zero). A sample of results is checked.
   */
  async spawn(fn: Fn<[number], number>, n: number): Promise<{ admitMs: number; drainMs: number }> {
    const t = performance.now();
    const calls = await fn.spawnMap(range(n));
    const admitMs = performance.now() - t;
    await until(
      async () => {
        const s = await fn.getCurrentStats();
        return s.backlog === 0 && s.runningInputs === 0 ? true : undefined;
      },
      `${n} spawned calls to drain`,
      30 * 60_000,
      100,
    );
    const drainMs = performance.now() - t;
    for (const i of [0, 1, Math.floor(n / 2), n - 1]) {
      const value = await calls[i].get({ timeoutMs: 30_000 });
      if (value !== i) throw new Error(`spawned call ${i} returned ${value}`);
    }
    return { admitMs, drainMs };
  }

  /** Waits until `fn` has `n` ready containers and none starting. */
  async waitForReady(fn: Fn<[number], number>, n: number, timeoutMs = 60_000): Promise<void> {
    await until(
      async () => {
        const s = await fn.getCurrentStats();
        return s.containers.starting === 0 && s.containers.total >= n ? true : undefined;
      },
      `${n} containers to be ready`,
      timeoutMs,
      100,
    );
  }

  /** Waits until `fn` has no containers at all (scaled to zero). */
  async waitForZero(fn: Fn<unknown[], unknown>, timeoutMs = 60_000): Promise<void> {
    await until(async () => ((await fn.getCurrentStats()).containers.total === 0 ? true : undefined), "the pool to scale to zero", timeoutMs, 250);
  }

  /** Pids of the runner processes running now. */
  async runnerPids(): Promise<number[]> {
    return (await this.hostContainers()).filter((c) => c.state === "running").map((c) => c.pid);
  }

  async hostContainers(): Promise<ListContainersResponse["containers"]> {
    const res = await fetch(`${this.platform.hostUrl}/containers`);
    return ((await res.json()) as ListContainersResponse).containers;
  }

  /**
   * A burst of `n` inputs at zero containers. Times from the moment the map
   * is called: the first container requested (the pool's first POST
   * /containers reaching the local container host — same clock, same
   * process), the first runner process spawned (the host's startedAt), all
   * `expected` containers ready (the pool's stats, polled every 20 ms), and
   * the burst complete (last output).
   */
  async burst(fn: Fn<[number], BurstOutput>, n: number, expected: number): Promise<BurstResult> {
    await this.waitForZero(fn as Fn<unknown[], unknown>);
    const before = new Set((await this.hostContainers()).map((c) => c.id));
    const t0 = Date.now();
    let allReadyAt = NaN;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const s: FunctionStats = await fn.getCurrentStats();
        if (s.containers.starting === 0 && s.containers.total >= expected) {
          allReadyAt = Date.now();
          return;
        }
        await sleep(20);
      }
    })();
    const outputs = await fn.map(range(n)).toArray();
    const completeAt = Date.now();
    polling = false;
    await poll;
    const started = (await this.hostContainers()).filter((c) => !before.has(c.id) && c.startedAt >= t0 - 5);
    const firstSpawned = Math.min(...started.map((c) => c.startedAt));
    const firstRequested = containerRequests.find((t) => t >= t0) ?? NaN;
    const firstInputOf = new Map<string, number>();
    for (const o of outputs) firstInputOf.set(o.container, Math.min(firstInputOf.get(o.container) ?? Infinity, o.startedAt));
    return {
      firstRequestedMs: firstRequested - t0,
      firstSpawnedMs: firstSpawned - t0,
      allReadyMs: allReadyAt - t0,
      completeMs: completeAt - t0,
      containers: firstInputOf.size,
      firstInputOnLastContainerMs: Math.max(...firstInputOf.values()) - t0,
    };
  }

  /**
   * Pool storage per pending input: the FunctionPool's SQLite file (its
   * logical size from the database header, WAL included) before and after
   * admitting `n` spawned calls that cannot run yet (the function's one slot
   * is held by a long input).
   */
  async storage(n: number): Promise<{ n: number; before: PoolStorage; after: PoolStorage; bytesPerInput: number }> {
    const parked = await this.fn<[number], number>("parked");
    const blocker = await parked.spawn(-1);
    const poolId = /^fc-([0-9a-f]{64})-/.exec(blocker.id)?.[1];
    if (!poolId) throw new Error(`cannot read the pool id from call id ${blocker.id}`);
    await until(async () => ((await parked.getCurrentStats()).runningInputs === 1 ? true : undefined), "the blocking input to start", 60_000, 100);
    const settle = async (): Promise<PoolStorage> => {
      let last = poolStorage(this.platform.persistTo, poolId);
      for (;;) {
        await sleep(1_000);
        const now = poolStorage(this.platform.persistTo, poolId);
        if (now.usedBytes === last.usedBytes) return now;
        last = now;
      }
    };
    const before = await settle();
    await parked.spawnMap(range(n, 1));
    await until(async () => ((await parked.getCurrentStats()).backlog === n ? true : undefined), "the spawned calls to be admitted", 10 * 60_000, 200);
    const after = await settle();
    await blocker.cancel().catch(() => undefined);
    return { n, before, after, bytesPerInput: (after.usedBytes - before.usedBytes) / n };
  }

  /**
   * A `.map` of n inputs from a separate client process (so its RSS is the
   * SDK's alone), sampling process.memoryUsage().rss every 250 ms.
   */
  runMapClient(n: number): Promise<{ n: number; ms: number; peakRssMb: number; startRssMb: number; samples: Array<[number, number]> }> {
    return new Promise((resolve, reject) => {
      const child = fork(join(ROOT, "scripts", "bench", "map-client.ts"), [], {
        execArgv: ["--import", "tsx"],
        env: { ...process.env, SQUALL_URL: this.platform.url, SQUALL_TOKEN: this.token, BENCH_N: String(n), BENCH_APP: APP_NAME },
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      child.once("message", (m) => resolve(m as never));
      child.once("exit", (code) => reject(new Error(`the map client exited with code ${code} before reporting`)));
    });
  }

  close(): Promise<void> {
    return this.platform.close();
  }
}

/** 0..n-1 (from `start`), lazily: the inputs are never all in memory. */
export function* range(n: number, start = 0): Generator<number> {
  for (let i = start; i < start + n; i++) yield i;
}

// `npm run bench`: Squall on this machine side by side with BullMQ (local
// redis-server) and with the limit (the SDK's encoding talking straight to
// one runner process), in the same run. Writes bench/RESULTS.md (the part
// between its bench markers) and bench/results.json.
//
//   npm run bench                  full run (3 runs of each timed workload)
//   npm run bench -- --quick       smoke run: small N, one run
//   npm run bench -- --runs 5 --only rt,tp,tp1,io,spawn,scale,memory,storage --verbose
//   npm run bench -- --profile     also a CPU profile of the Worker + pool isolate during a map
//   npm run bench -- --no-write    print the results, write nothing
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BullSide } from "./bench/bullmq";
import { DirectRunner } from "./bench/direct";
import { startRedis, type RedisServer } from "./bench/redis";
import { SquallSide, type BurstOutput } from "./bench/squall";
import { PlatformFloor } from "./bench/floor";
import { machineInfo, writeResults, type BenchResults, type Side3 } from "./bench/report";
import { median, percentile, round } from "./bench/stats";
import { CpuMeter, IsolateProfiler, attribute, summarize as summarizeProfile, workerdPids } from "./bench/profile";

const WORKLOADS = ["rt", "tp", "tp1", "io", "spawn", "scale", "memory", "storage"] as const;
type Workload = (typeof WORKLOADS)[number];

function parseArgs(argv: string[]): { quick: boolean; runs: number; only: Set<Workload>; verbose: boolean; write: boolean; profile: boolean } {
  const quick = argv.includes("--quick");
  const runsAt = argv.indexOf("--runs");
  const onlyAt = argv.indexOf("--only");
  const only = onlyAt >= 0 ? (argv[onlyAt + 1] ?? "").split(",").filter(Boolean) : [...WORKLOADS];
  for (const w of only) if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`unknown workload ${w}; one of ${WORKLOADS.join(", ")}`);
  return {
    quick,
    runs: runsAt >= 0 ? Math.max(1, Number(argv[runsAt + 1])) : quick ? 1 : 3,
    only: new Set(only as Workload[]),
    verbose: argv.includes("--verbose"),
    write: !argv.includes("--no-write"),
    profile: argv.includes("--profile"),
  };
}

const args = parseArgs(process.argv.slice(2));
const N = args.quick
  ? { rt: 100, rtWarmup: 10, tp: 2_000, tp1: 1_000, io: 1_000, spawn: 2_000, burst: 40, burstContainers: 20, memory: 20_000, storage: 2_000 }
  : { rt: 500, rtWarmup: 20, tp: 20_000, tp1: 10_000, io: 5_000, spawn: 100_000, burst: 200, burstContainers: 20, memory: 1_000_000, storage: 20_000 };

const startedAt = Date.now();
const log = (line: string): void => console.log(`[bench ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)}s] ${line}`);

const dir = mkdtempSync(join(tmpdir(), "squall-bench-"));
let redis: RedisServer | null = null;
let squall: SquallSide | null = null;
const closers: Array<() => Promise<void>> = [];
let exitCode = 0;

const results: BenchResults = {
  generatedAt: new Date().toISOString(),
  quick: args.quick,
  runs: args.runs,
  n: N,
  machine: machineInfo(),
  workloads: {},
  durationS: 0,
};

let cleaning: Promise<void> | null = null;
/** Stops everything this run started (workers, runners, the platform, redis) and removes its temp state. */
function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    for (const close of closers.reverse()) await close().catch((err: unknown) => console.error(`closing: ${(err as Error).message}`));
    await squall?.close().catch((err: unknown) => console.error(`closing the platform: ${(err as Error).message}`));
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  })());
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping what the benchmark started…`);
    void cleanup().finally(() => process.exit(130));
  });
}

const toRate = (n: number, ms: number): number => round(n / (ms / 1000), 0);
/** Runs the three sides in an order that rotates from run to run, so none is always first or last. */
/** Round trips each side makes before the next side's turn (the warm round trip workload). */
const RT_SLICE_CALLS = 50;

async function rotate(run: number, sides: Array<() => Promise<void>>): Promise<void> {
  for (let i = 0; i < sides.length; i++) await sides[(i + run) % sides.length]();
}

try {
  log(
    `machine: ${results.machine.nproc} CPUs (${results.machine.cpuModel}), ${results.machine.memoryGb} GB, node ${results.machine.node}; ${args.quick ? "quick" : "full"} run, ${args.runs} runs`,
  );
  redis = await startRedis(log);
  results.machine.redis = redis.version;
  log(`redis-server on 127.0.0.1:${redis.port} (${redis.version.split(" ").slice(0, 3).join(" ")})`);

  log("starting the local platform (the Worker under Miniflare + the local container host)…");
  squall = await SquallSide.start(join(dir, "state"), { verbose: args.verbose, log });
  log(`platform at ${squall.platform.url}, app deployed`);
  const noop = await squall.fn<[number], number>("noop");
  const sleep10 = await squall.fn<[number], number>("sleep10");

  const needNoop = args.only.has("rt") || args.only.has("tp") || args.profile;
  const bullNoop = needNoop ? await BullSide.start(redis.port, "bench-noop", "noop") : null;
  const bullSleep = args.only.has("io") ? await BullSide.start(redis.port, "bench-sleep10", "sleep10") : null;
  const directNoop = needNoop ? await DirectRunner.start(squall.bundle, "noop", 100) : null;
  const directSleep = args.only.has("io") ? await DirectRunner.start(squall.bundle, "sleep10", 100) : null;
  for (const c of [bullNoop, bullSleep, directNoop, directSleep]) if (c) closers.push(() => c.close());
  // Warm every side (containers started, JIT and caches warm) outside any measurement:
  // without this the first run of whichever side goes first is up to 2× slower. 20,000
  // inputs (one whole no-op map): after 2,000 the first measured squall map still ran
  // ~15 % slower than the next ones, workerd's JIT not yet settled on the pool's paths.
  const warm = args.quick ? 500 : 20_000;
  if (needNoop) {
    await squall.map(noop, warm);
    await bullNoop!.bulk(warm);
    await directNoop!.map(warm);
  }
  if (args.only.has("io")) {
    await squall.map(sleep10, warm);
    await bullSleep!.bulk(warm);
    await directSleep!.map(warm);
  }

  // ---- 1. warm round trip -------------------------------------------------
  if (args.only.has("rt")) {
    const floor = await PlatformFloor.start();
    closers.push(() => floor.close());
    const runs: Array<Side3<{ p50: number; p99: number }> & { layers: Record<string, number> }> = [];
    for (let r = 0; r < args.runs; r++) {
      const row = {} as Side3<{ p50: number; p99: number }> & { layers: Record<string, number> };
      const pct = (s: number[]) => ({ p50: round(percentile(s, 50), 2), p99: round(percentile(s, 99), 2) });
      const directRoundTrips = async (n: number, warmup: number): Promise<number[]> => {
        const s: number[] = [];
        for (let i = 0; i < warmup + n; i++) {
          const t = performance.now();
          await directNoop!.remote(i);
          if (i >= warmup) s.push(performance.now() - t);
        }
        return s;
      };
      // The sides take turns a slice of calls at a time, so that a host that slows down or
      // speeds up within a run (this one does, by ±20 % over seconds) weighs on each side alike.
      const samples: Side3<number[]> = { squall: [], bullmq: [], direct: [] };
      await squall.roundTrips(noop, 0, N.rtWarmup);
      await bullNoop!.roundTrips(0, N.rtWarmup);
      await directRoundTrips(0, N.rtWarmup);
      for (let done = 0, slice = 0; done < N.rt; done += RT_SLICE_CALLS, slice++) {
        const n = Math.min(RT_SLICE_CALLS, N.rt - done);
        await rotate(r + slice, [
          async () => void samples.squall.push(...(await squall!.roundTrips(noop, n, 0))),
          async () => void samples.bullmq.push(...(await bullNoop!.roundTrips(n, 0))),
          async () => void samples.direct.push(...(await directRoundTrips(n, 0))),
        ]);
      }
      row.squall = pct(samples.squall);
      row.bullmq = pct(samples.bullmq);
      row.direct = pct(samples.direct);
      const floorP50 = await floor.measure(N.rt, N.rtWarmup);
      row.layers = {
        ...(await squall.layers(noop, Math.min(N.rt, 200))),
        floorEcho: floorP50.echo,
        floorDurable: floorP50.durable,
        floorChannelEcho: floorP50.channelEcho,
        floorChannelDurable: floorP50.channelDurable,
      };
      runs.push(row);
      log(
        `round trip run ${r + 1}: p50 squall ${row.squall.p50} ms, bullmq ${row.bullmq.p50} ms, direct ${row.direct.p50} ms; layers ${JSON.stringify(row.layers)}`,
      );
    }
    results.workloads.roundTrip = { n: N.rt, runs };
  }

  // ---- 2. throughput, 3. I/O-bound ------------------------------------------
  // CPU time per input of each side's processes, measured around each side's run.
  const cpuPerInput = async (n: number, groups: Record<string, () => number[]>, run: () => Promise<void>): Promise<Record<string, number>> => {
    const meter = new CpuMeter(groups);
    meter.start();
    await run();
    return Object.fromEntries(Object.entries(meter.stop()).map(([k, ms]) => [k, round((ms * 1000) / n, 0)]));
  };
  const rateWorkload = async (key: "throughput" | "io", n: number, fn: typeof noop, bull: BullSide, direct: DirectRunner): Promise<void> => {
    const runs: Array<Side3<number>> = [];
    const cpu: Array<Side3<Record<string, number>>> = [];
    const runners = await squall!.runnerPids();
    for (let r = 0; r < args.runs; r++) {
      const row = {} as Side3<number>;
      const c = {} as Side3<Record<string, number>>;
      await rotate(r, [
        async () => {
          c.squall = await cpuPerInput(n, { workerd: workerdPids, runner: () => runners, client: () => [process.pid] }, async () => {
            row.squall = toRate(n, await squall!.map(fn, n));
          });
        },
        async () => {
          c.bullmq = await cpuPerInput(n, { redis: () => [redis!.pid], worker: () => [bull.workerPid], client: () => [process.pid] }, async () => {
            row.bullmq = toRate(n, (await bull.bulk(n)).ms);
          });
        },
        async () => {
          c.direct = await cpuPerInput(n, { runner: () => [direct.pid], client: () => [process.pid] }, async () => {
            const t = performance.now();
            await direct.map(n);
            row.direct = toRate(n, performance.now() - t);
          });
        },
      ]);
      runs.push(row);
      cpu.push(c);
      log(`${key} run ${r + 1}: squall ${row.squall}/s, bullmq ${row.bullmq}/s, direct ${row.direct}/s; CPU µs/input ${JSON.stringify(c)}`);
    }
    results.workloads[key] = { n, runs, cpuUsPerInput: cpu };
  };
  if (args.only.has("tp")) await rateWorkload("throughput", N.tp, noop, bullNoop!, directNoop!);
  if (args.only.has("io")) await rateWorkload("io", N.io, sleep10, bullSleep!, directSleep!);

  // ---- 2b. no-op map on default concurrency: 1 input per container, up to 4 containers ----
  if (args.only.has("tp1")) {
    const noopDefault = await squall.fn<[number], number>("noopDefault");
    // Warm: all 4 containers started and ready before anything is timed.
    await squall.map(noopDefault, args.quick ? 200 : 1_000);
    await squall.waitForReady(noopDefault, 4);
    await squall.map(noopDefault, args.quick ? 200 : 1_000);
    const runs: number[] = [];
    for (let r = 0; r < args.runs; r++) {
      runs.push(toRate(N.tp1, await squall.map(noopDefault, N.tp1)));
      log(`default-concurrency run ${r + 1}: squall ${runs[r]}/s (1 input per container, 4 containers)`);
    }
    results.workloads.oneSlot = { n: N.tp1, containers: 4, runs, median: median(runs) };
  }

  // ---- profile: the Worker + pool isolate during one more no-op map ----------
  if (args.profile) {
    log(`profiling the Worker + FunctionPool isolate during a ${N.tp}-input map…`);
    const profiler = await IsolateProfiler.attach(squall.platform.url);
    await profiler.start();
    const ms = await squall.map(noop, N.tp);
    const profile = await profiler.stop();
    profiler.close();
    const summary = summarizeProfile(profile, 30);
    const file = join(tmpdir(), `squall-bench-isolate-${Date.now()}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    log(`isolate CPU profile written to ${file} (open it in Chrome DevTools or VS Code)`);
    results.profile = { n: N.tp, ratePerS: toRate(N.tp, ms), ...summary, shares: attribute(profile) };
    log(
      `isolate profile: ${summary.totalMs} ms sampled, ${summary.idleMs} ms idle; inclusive: ${summary.inclusive
        .slice(0, 15)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
    );
  }

  // ---- 4. spawn ---------------------------------------------------------------
  if (args.only.has("spawn")) {
    const spawnNoop = await squall.fn<[number], number>("spawnNoop");
    await spawnNoop.remote(0);
    const bull = await BullSide.start(redis.port, "bench-spawn", "noop");
    closers.push(() => bull.close());
    const runs: Array<{ squall: { admitPerS: number; drainPerS: number; admitS: number; drainS: number }; bullmq: { admitPerS: number; drainPerS: number } }> =
      [];
    for (let r = 0; r < args.runs; r++) {
      const s = await squall.spawn(spawnNoop, N.spawn);
      const b = await bull.bulk(N.spawn);
      const row = {
        squall: {
          admitPerS: toRate(N.spawn, s.admitMs),
          drainPerS: toRate(N.spawn, s.drainMs),
          admitS: round(s.admitMs / 1000, 1),
          drainS: round(s.drainMs / 1000, 1),
        },
        bullmq: { admitPerS: toRate(N.spawn, b.addMs), drainPerS: toRate(N.spawn, b.ms) },
      };
      runs.push(row);
      log(
        `spawn run ${r + 1}: squall admitted ${row.squall.admitPerS}/s (${row.squall.admitS} s), drained ${row.squall.drainPerS}/s (${row.squall.drainS} s); bullmq addBulk ${row.bullmq.admitPerS}/s, drained ${row.bullmq.drainPerS}/s`,
      );
    }
    results.workloads.spawn = { n: N.spawn, runs };
  }

  // ---- 5. scale-up --------------------------------------------------------------
  if (args.only.has("scale")) {
    const burst = await squall.fn<[number], BurstOutput>("burst");
    const runs = [];
    for (let r = 0; r < args.runs; r++) {
      const row = await squall.burst(burst, N.burst, N.burstContainers);
      runs.push(row);
      log(
        `scale-up run ${r + 1}: first container requested after ${row.firstRequestedMs} ms (runner spawned after ${row.firstSpawnedMs} ms), ${row.containers} containers, all ready after ${row.allReadyMs} ms, burst done after ${row.completeMs} ms`,
      );
    }
    results.workloads.scaleUp = { n: N.burst, maxContainers: N.burstContainers, idealS: Math.ceil(N.burst / N.burstContainers) * 2, runs };
  }

  // ---- 6. memory: client RSS during a big map, pool storage per pending input ----
  if (args.only.has("memory")) {
    log(`client RSS: a ${N.memory.toLocaleString("en")}-input map from a separate process…`);
    const m = await squall.runMapClient(N.memory);
    results.workloads.clientMemory = {
      n: m.n,
      seconds: round(m.ms / 1000, 1),
      ratePerS: toRate(m.n, m.ms),
      startRssMb: round(m.startRssMb, 1),
      peakRssMb: round(m.peakRssMb, 1),
      samples: thin(m.samples, 60),
    };
    log(`client RSS: start ${round(m.startRssMb, 1)} MB, peak ${round(m.peakRssMb, 1)} MB over ${round(m.ms / 1000, 1)} s (${toRate(m.n, m.ms)} inputs/s)`);
  }
  if (args.only.has("storage")) {
    const s = await squall.storage(N.storage);
    results.workloads.poolStorage = { n: s.n, bytesPerInput: round(s.bytesPerInput, 0), before: s.before, after: s.after };
    log(
      `pool storage: ${round(s.bytesPerInput, 0)} bytes per pending spawned input (${s.n} inputs; logical SQLite size ${s.before.usedBytes} -> ${s.after.usedBytes} bytes)`,
    );
  }
  summarize(results);
} catch (err) {
  exitCode = 1;
  console.error(err);
} finally {
  await cleanup();
}

results.durationS = round((Date.now() - startedAt) / 1000, 0);
if (exitCode === 0) {
  if (args.write) {
    const { md, json } = writeResults(results);
    log(`wrote ${md} and ${json}`);
  } else {
    console.log(JSON.stringify(results, null, 2));
  }
}
log(`done in ${results.durationS} s`);
process.exit(exitCode);

/** Medians over runs, and the ratios of each run. */
function summarize(r: BenchResults): void {
  const w = r.workloads;
  if (w.roundTrip) {
    const runs = w.roundTrip.runs;
    w.roundTrip.median = {
      squall: { p50: median(runs.map((x) => x.squall.p50)), p99: median(runs.map((x) => x.squall.p99)) },
      bullmq: { p50: median(runs.map((x) => x.bullmq.p50)), p99: median(runs.map((x) => x.bullmq.p99)) },
      direct: { p50: median(runs.map((x) => x.direct.p50)), p99: median(runs.map((x) => x.direct.p99)) },
      layers: Object.fromEntries(Object.keys(runs[0].layers).map((k) => [k, round(median(runs.map((x) => x.layers[k])), 2)])),
      squallOverBullmqP50: round(median(runs.map((x) => x.squall.p50 / x.bullmq.p50)), 2),
    };
  }
  for (const key of ["throughput", "io"] as const) {
    const x = w[key];
    if (!x) continue;
    x.median = {
      squall: median(x.runs.map((y) => y.squall)),
      bullmq: median(x.runs.map((y) => y.bullmq)),
      direct: median(x.runs.map((y) => y.direct)),
      squallOverBullmq: round(median(x.runs.map((y) => y.squall / y.bullmq)), 2),
      squallOverDirect: round(median(x.runs.map((y) => y.squall / y.direct)), 3),
    };
  }
  if (w.spawn) {
    const runs = w.spawn.runs;
    w.spawn.median = {
      squall: { admitPerS: median(runs.map((x) => x.squall.admitPerS)), drainPerS: median(runs.map((x) => x.squall.drainPerS)) },
      bullmq: { admitPerS: median(runs.map((x) => x.bullmq.admitPerS)), drainPerS: median(runs.map((x) => x.bullmq.drainPerS)) },
    };
  }
  if (w.scaleUp) {
    const runs = w.scaleUp.runs;
    w.scaleUp.median = {
      firstRequestedMs: median(runs.map((x) => x.firstRequestedMs)),
      firstSpawnedMs: median(runs.map((x) => x.firstSpawnedMs)),
      allReadyMs: median(runs.map((x) => x.allReadyMs)),
      completeMs: median(runs.map((x) => x.completeMs)),
    };
  }
}

function thin<T>(xs: T[], max: number): T[] {
  if (xs.length <= max) return xs;
  const step = xs.length / max;
  return Array.from({ length: max }, (_, i) => xs[Math.floor(i * step)]).concat([xs[xs.length - 1]]);
}

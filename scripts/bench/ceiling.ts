// `npm run bench:ceiling`: the ceiling of one pool on this machine, and the
// per-shard costs the sharding projection of `npm run simulate` runs on
// (written to bench/pool-costs.json). On the real local platform:
//   1. a 20 000-input no-op map on four containers of 100 slots (more slots
//      than one pool feeds): inputs/s, and workerd CPU per input;
//   2. 1 000 `.remote()` calls one after another: workerd CPU per call, the
//      part beyond its input being its one request (create and wait);
//   3. workerd CPU with SUPERVISED idle containers against none: the cost of
//      a heartbeat, hence how many containers one pool's thread supervises;
//   4. a no-op map over those containers, one input slot each.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildManifest, loadApp } from "../../sdk/src/cli/load-app";
import { Http } from "../../sdk/src/http";
import { Client } from "../../sdk/src/index";
import type { FunctionHandle } from "../../sdk/src/function";
import { HEARTBEAT_INTERVAL_MS } from "../../sdk/src/wire/protocol";
import { ROUTES } from "../../sdk/src/wire";
import { ROOT, freePort, startLocalPlatform } from "../platform";
import { defaultCostsSource } from "../simulation/pool-costs";
import type { CostsSource } from "../simulation/shards-report";
import { CpuMeter } from "./profile";
import { round, sleep, until } from "./stats";
import { range } from "./squall";

const APP_NAME = "squall-ceiling";
const SUPERVISED = 48;
const IDLE_WINDOW_MS = 20_000;
const verbose = process.argv.includes("--verbose");
const log = (line: string): void => console.log(`[ceiling] ${line}`);

async function mapAll(fn: FunctionHandle<[number], number>, n: number): Promise<number> {
  const t = performance.now();
  let expected = 0;
  for await (const y of fn.map(range(n))) if (y !== expected++) throw new Error(`map output ${expected - 1} was ${y}`);
  return performance.now() - t;
}

/** This run's workerd processes (descendants of this process), not other platforms on the machine. */
function ownWorkerdPids(): number[] {
  const rows = execFileSync("ps", ["-eo", "pid=,ppid=,comm="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/));
  const parent = new Map(rows.map(([pid, ppid]) => [Number(pid), Number(ppid)]));
  const descends = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  return rows.filter(([pid, , comm]) => comm === "workerd" && descends(Number(pid))).map(([pid]) => Number(pid));
}

async function workerdCpuMs(run: () => Promise<unknown>): Promise<number> {
  const meter = new CpuMeter({ workerd: ownWorkerdPids });
  meter.start();
  await run();
  return meter.stop().workerd;
}

// The host must let one pool hold more containers than this machine's default.
process.env.SQUALL_LOCAL_MAX_CONTAINERS = String(SUPERVISED + 8);
const stateDir = mkdtempSync(join(tmpdir(), "squall-ceiling-"));
const { registered, bundle } = await loadApp(join(ROOT, "bench", "apps", "ceiling.ts"));
const platform = await startLocalPlatform({ port: await freePort(), persistTo: stateDir, verbose, log });
try {
  const token = await platform.createWorkspace("ceiling");
  await new Http(platform.url, token).send(ROUTES.deploy, { params: { app: APP_NAME }, body: { manifest: buildManifest(registered, APP_NAME), bundle } });
  const client = new Client({ url: platform.url, token });
  const wide = await client.functions.fromName<[number], number>(APP_NAME, "wide");
  const many = await client.functions.fromName<[number], number>(APP_NAME, "many");

  await mapAll(wide, 2_000);
  const mapInputs = 20_000;
  let mapMs = 0;
  const mapCpuMs = await workerdCpuMs(async () => void (mapMs = await mapAll(wide, mapInputs)));
  const inputsPerS = (mapInputs / mapMs) * 1000;
  const inputCpuUs = (mapCpuMs * 1000) / mapInputs;
  log(`map: ${Math.round(inputsPerS)} inputs/s, workerd ${round(inputCpuUs)} µs per input`);

  const calls = 1_000;
  for (let i = 0; i < 20; i++) await wide.remote(i);
  const callCpuMs = await workerdCpuMs(async () => {
    for (let i = 0; i < calls; i++) await wide.remote(i);
  });
  const callCpuUs = (callCpuMs * 1000) / calls;
  const requestCpuUs = Math.max(0, callCpuUs - inputCpuUs);
  log(`remote: workerd ${round(callCpuUs)} µs per call, ${round(requestCpuUs)} µs for its request beyond the input`);

  const baselineMs = await workerdCpuMs(() => sleep(IDLE_WINDOW_MS));
  await many.updateAutoscaler({ minContainers: SUPERVISED });
  await until(async () => ((await many.getCurrentStats()).containers.idle >= SUPERVISED ? true : undefined), `${SUPERVISED} idle containers`, 180_000, 500);
  await sleep(2 * HEARTBEAT_INTERVAL_MS);
  const supervisingMs = await workerdCpuMs(() => sleep(IDLE_WINDOW_MS));
  const heartbeats = (SUPERVISED * IDLE_WINDOW_MS) / HEARTBEAT_INTERVAL_MS;
  const heartbeatCpuUs = Math.max(0, ((supervisingMs - baselineMs) * 1000) / heartbeats);
  // Containers whose heartbeats alone would take a tenth of the thread.
  const supervisable = heartbeatCpuUs > 0 ? Math.round((0.1 * 1e6 * HEARTBEAT_INTERVAL_MS) / 1000 / heartbeatCpuUs) : Infinity;
  log(`supervision: ${SUPERVISED} idle containers cost ${round(heartbeatCpuUs)} µs per heartbeat: ~${supervisable} containers per tenth of the thread`);

  await mapAll(many, 2_000);
  let manyMs = 0;
  const manyCpuMs = await workerdCpuMs(async () => void (manyMs = await mapAll(many, 10_000)));
  const manyPerS = (10_000 / manyMs) * 1000;
  // workerd's CPU over the map's wall time: near 100 % the pool's thread bounds it; well below, the runners do.
  const manyWorkerdShare = manyCpuMs / manyMs;
  log(`map over ${SUPERVISED} one-slot containers: ${Math.round(manyPerS)} inputs/s, workerd busy ${Math.round(manyWorkerdShare * 100)} % of one core`);

  const defaults = defaultCostsSource().costs;
  const source: CostsSource = {
    origin: `measured by \`npm run bench:ceiling\` on ${new Date().toISOString().slice(0, 10)} (one pool: ${Math.round(inputsPerS).toLocaleString("en-US")} no-op inputs/s on 4 × 100 slots; ${Math.round(manyPerS).toLocaleString("en-US")} inputs/s on ${SUPERVISED} one-slot containers, workerd ${Math.round(manyWorkerdShare * 100)} % of a core; heartbeats of ~${supervisable.toLocaleString("en-US")} containers take a tenth of its thread)`,
    costs: { ...defaults, inputCpuUs: round(inputCpuUs), requestCpuUs: round(requestCpuUs), heartbeatCpuUs: round(heartbeatCpuUs, 2) },
  };
  writeFileSync(join(ROOT, "bench", "pool-costs.json"), `${JSON.stringify(source, null, 2)}\n`);
  log("wrote bench/pool-costs.json; `npm run simulate` projects shards from it");
} finally {
  await platform.close();
  rmSync(stateDir, { recursive: true, force: true });
}

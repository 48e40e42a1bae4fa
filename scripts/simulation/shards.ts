// Projected throughput of one function whose pool is split into shards
// (docs/scaling-past-one-pool.md): S FunctionPool objects, each a single
// thread, with shard 0 also the coordinator that keeps the one autoscaler
// view. A fluid model stepped in simulated time: each step every shard spends
// its thread's time on the inputs it holds, bounded by its containers' slots;
// the client puts batches round-robin across shards and consumes outputs in
// input order, so a lagging shard holds the map's head back. Costs come from
// measurements (PoolCosts), not from guesses inside the model.
import { Rng } from "./traces.js";

/** What a pool's thread spends, measured on the real platform (bench/RESULTS.md). */
export interface PoolCosts {
  /** Thread time per input of a map: store, claim, dispatch, complete, read back (µs). */
  inputCpuUs: number;
  /** Thread time per request into the object, besides its inputs (µs): a `.remote()` is one (create and wait). */
  requestCpuUs: number;
  /** Thread time per container heartbeat (µs), one every heartbeatIntervalMs. */
  heartbeatCpuUs: number;
  heartbeatIntervalMs: number;
  /** Each shard reports its load to the coordinator this often (only when S > 1). */
  reportIntervalMs: number;
  /** Thread time of one report, paid by the shard sending and by the coordinator receiving (µs). */
  reportCpuUs: number;
  /** Requests per second one object serves before Cloudflare sheds load (its documented soft limit). */
  softLimitRps: number;
  /** Each shard's thread speed moves by up to ± this fraction every 100 ms (a shared, noisy machine). */
  speedJitter: number;
}

export type ShardWorkload =
  | {
      kind: "map";
      name: string;
      inputs: number;
      inputMs: number;
      containers: number;
      slotsPerContainer: number;
      /** Inputs per put; batch j of the map goes to shard j mod S. */
      batchInputs: number;
      /** Inputs the client keeps put but not yet consumed, per shard (the SDK's window). */
      windowPerShard: number;
    }
  | {
      kind: "remote";
      name: string;
      /** `.remote()` calls offered per second by many callers (one input and one request each). */
      offeredPerS: number;
      durationMs: number;
      inputMs: number;
      containers: number;
      slotsPerContainer: number;
    };

export interface ShardResult {
  shards: number;
  /** Inputs completed (and, for maps, consumed in order) per second. */
  inputsPerS: number;
  /** Busiest shard's thread, share of wall time. */
  busiestShardBusy: number;
  /** The coordinator's thread time spent on shard reports, share of wall time. */
  coordinatorShare: number;
  /** Requests per second into the busiest object, against the soft limit. */
  requestsPerSPerObject: number;
  containersPerShard: number;
  /** Containers over all shards: more than the workload's when each shard needs its own. */
  containersInAll: number;
}

const STEP_MS = 10;
const JITTER_EVERY_MS = 100;

/**
 * Splits n containers as evenly as possible over the shards; a shard holds at
 * least one, since calls hashed to it have nowhere else to run (which is why
 * a function never gets more shards than its maxContainers).
 */
function spread(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, k) => Math.max(1, Math.floor(n / parts) + (k < n % parts ? 1 : 0)));
}

/** Per-step fixed costs of shard k (µs): heartbeats of its containers, reports. */
function overheadUs(k: number, shards: number, containers: number, costs: PoolCosts): number {
  let us = (containers * costs.heartbeatCpuUs * STEP_MS) / costs.heartbeatIntervalMs;
  if (shards > 1) {
    const reports = STEP_MS / costs.reportIntervalMs;
    us += reports * costs.reportCpuUs * (k === 0 ? shards : 1);
  }
  return us;
}

export function simulateShards(workload: ShardWorkload, shards: number, costs: PoolCosts, seed = 1): ShardResult {
  if (!Number.isInteger(shards) || shards < 1) throw new Error(`shards must be a positive integer, got ${shards}`);
  const rng = new Rng(seed);
  const containers = spread(workload.containers, shards);
  const speed = new Array<number>(shards).fill(1);
  const busyUs = new Array<number>(shards).fill(0);
  const requests = new Array<number>(shards).fill(0);
  let coordinatorUs = 0;
  let nowMs = 0;
  let completed = 0;

  // Map state: inputs put to each shard, done on each (FIFO within a shard), batches consumed in order.
  const put = new Array<number>(shards).fill(0);
  const done = new Array<number>(shards).fill(0);
  let nextBatch = 0;
  let consumedBatches = 0;
  const batchSize = (j: number): number => (workload.kind === "map" ? Math.min(workload.batchInputs, workload.inputs - j * workload.batchInputs) : 0);
  const batches = workload.kind === "map" ? Math.ceil(workload.inputs / workload.batchInputs) : 0;
  // Inputs put to shard k before batch j (batches round-robin, all full but the last).
  const putBefore = (j: number, k: number): number => {
    let n = 0;
    for (let b = k; b < j; b += shards) n += batchSize(b);
    return n;
  };
  // Remote state: calls waiting in each shard.
  const waiting = new Array<number>(shards).fill(0);

  const finished = (): boolean => (workload.kind === "map" ? consumedBatches === batches : nowMs >= workload.durationMs);
  while (!finished()) {
    if (nowMs % JITTER_EVERY_MS === 0) for (let k = 0; k < shards; k++) speed[k] = 1 + costs.speedJitter * (2 * rng.next() - 1);

    if (workload.kind === "map") {
      // The client puts the next batches while every shard's window has room.
      while (nextBatch < batches) {
        const k = nextBatch % shards;
        const unconsumed = put[k] - putBefore(Math.min(consumedBatches, nextBatch), k);
        if (unconsumed + batchSize(nextBatch) > workload.windowPerShard) break;
        put[k] += batchSize(nextBatch);
        requests[k]++;
        nextBatch++;
      }
    } else {
      // Callers hash their calls over shards: each shard gets an equal share.
      const arriving = (workload.offeredPerS * STEP_MS) / 1000;
      for (let k = 0; k < shards; k++) waiting[k] += arriving / shards;
    }

    for (let k = 0; k < shards; k++) {
      const budgetUs = STEP_MS * 1000 * speed[k];
      const fixedUs = Math.min(budgetUs, overheadUs(k, shards, containers[k], costs));
      if (k === 0 && shards > 1) coordinatorUs += Math.min(fixedUs, (STEP_MS / costs.reportIntervalMs) * costs.reportCpuUs * shards);
      const slotsPerStep = (containers[k] * workload.slotsPerContainer * STEP_MS) / workload.inputMs;
      let work: number;
      let perInputUs: number;
      if (workload.kind === "map") {
        perInputUs = costs.inputCpuUs;
        work = Math.min(put[k] - done[k], slotsPerStep, (budgetUs - fixedUs) / perInputUs);
        done[k] += work;
        // Reading outputs back: one request per batch's worth.
        requests[k] += work / workload.batchInputs;
      } else {
        perInputUs = costs.inputCpuUs + costs.requestCpuUs;
        const softLimitInputs = (costs.softLimitRps * STEP_MS) / 1000;
        work = Math.min(waiting[k], slotsPerStep, (budgetUs - fixedUs) / perInputUs, softLimitInputs);
        waiting[k] -= work;
        requests[k] += work;
      }
      // Costs are at nominal speed; a slow step takes longer on the wall clock.
      busyUs[k] += (fixedUs + work * perInputUs) / speed[k];
      if (workload.kind === "remote") completed += work;
    }

    if (workload.kind === "map") {
      // Outputs are consumed in input order: batch j once its shard finished every input put before it and itself.
      while (consumedBatches < nextBatch) {
        const k = consumedBatches % shards;
        if (done[k] + 1e-9 < putBefore(consumedBatches + 1, k)) break;
        completed += batchSize(consumedBatches);
        consumedBatches++;
      }
    }
    nowMs += STEP_MS;
  }

  const wallUs = nowMs * 1000;
  return {
    shards,
    inputsPerS: completed / (nowMs / 1000),
    busiestShardBusy: Math.max(...busyUs) / wallUs,
    coordinatorShare: coordinatorUs / wallUs,
    requestsPerSPerObject: Math.max(...requests) / (nowMs / 1000),
    containersPerShard: Math.max(...containers),
    containersInAll: containers.reduce((a, b) => a + b, 0),
  };
}

/**
 * How many shards a function gets: the fewest (a power of two, at most
 * `maxShards`) that keep each shard's thread under `targetBusy` at the
 * observed input rate, and no more than its maxContainers. A function that fits one pool gets 1: its path is
 * today's, with no coordinator and no reports.
 */
export function shardsFor(inputsPerS: number, requestsPerS: number, maxContainers: number, costs: PoolCosts, targetBusy = 0.6, maxShards = 16): number {
  const busy = (inputsPerS * costs.inputCpuUs + requestsPerS * costs.requestCpuUs) / 1e6;
  let shards = 1;
  while (shards * 2 <= Math.min(maxShards, maxContainers) && (busy / shards > targetBusy || requestsPerS / shards > targetBusy * costs.softLimitRps))
    shards *= 2;
  return shards;
}

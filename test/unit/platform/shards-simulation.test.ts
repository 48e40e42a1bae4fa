import { describe, expect, it } from "vitest";
import { shardsFor, simulateShards, type PoolCosts, type ShardWorkload } from "../../../scripts/simulation/shards";

const costs: PoolCosts = {
  inputCpuUs: 100,
  requestCpuUs: 500,
  heartbeatCpuUs: 20,
  heartbeatIntervalMs: 2_000,
  reportIntervalMs: 1_000,
  reportCpuUs: 100,
  softLimitRps: 1_000,
  speedJitter: 0,
};

const bigMap: ShardWorkload = {
  kind: "map",
  name: "map",
  inputs: 200_000,
  inputMs: 0.05,
  containers: 16,
  slotsPerContainer: 100,
  batchInputs: 500,
  windowPerShard: 1_000,
};

describe("sharding projection", () => {
  it("one shard runs a map at its thread's pace: one input per inputCpuUs", () => {
    const r = simulateShards(bigMap, 1, costs);
    expect(r.inputsPerS).toBeGreaterThan(0.95 * (1e6 / costs.inputCpuUs));
    expect(r.inputsPerS).toBeLessThanOrEqual(1e6 / costs.inputCpuUs);
    expect(r.coordinatorShare).toBe(0);
  });

  it("shards multiply a thread-bound map's throughput, less the coordinator's reports", () => {
    const one = simulateShards(bigMap, 1, costs).inputsPerS;
    const four = simulateShards(bigMap, 4, costs);
    expect(four.inputsPerS / one).toBeGreaterThan(3.8);
    expect(four.inputsPerS / one).toBeLessThanOrEqual(4);
    expect(four.coordinatorShare).toBeGreaterThan(0);
  });

  it("a map bound by its containers' slots gains nothing from shards", () => {
    const slow: ShardWorkload = { ...bigMap, inputs: 20_000, inputMs: 1_000, containers: 4, slotsPerContainer: 10 };
    const one = simulateShards(slow, 1, costs).inputsPerS;
    expect(one).toBeCloseTo(40, 0);
    expect(simulateShards(slow, 4, costs).inputsPerS).toBeCloseTo(one, 0);
  });

  it("consumes a map in input order, so one slow shard holds the whole map back", () => {
    const even = simulateShards(bigMap, 4, costs).inputsPerS;
    const jittery = simulateShards(bigMap, 4, { ...costs, speedJitter: 0.5 }).inputsPerS;
    expect(jittery).toBeLessThan(even);
  });

  it("caps single calls at the request soft limit of each object", () => {
    const calls: ShardWorkload = { kind: "remote", name: "remote", offeredPerS: 5_000, durationMs: 10_000, inputMs: 10, containers: 400, slotsPerContainer: 1 };
    expect(simulateShards(calls, 1, { ...costs, requestCpuUs: 10 }).inputsPerS).toBeCloseTo(costs.softLimitRps, -1);
    expect(simulateShards(calls, 4, { ...costs, requestCpuUs: 10 }).inputsPerS).toBeCloseTo(4 * costs.softLimitRps, -1);
  });

  it("costs a small function nothing at one shard, and a container per shard if forced", () => {
    const small: ShardWorkload = { kind: "remote", name: "small", offeredPerS: 20, durationMs: 10_000, inputMs: 50, containers: 1, slotsPerContainer: 1 };
    const one = simulateShards(small, 1, costs);
    expect(one.inputsPerS).toBeCloseTo(20, 0);
    expect(one.containersInAll).toBe(1);
    expect(one.coordinatorShare).toBe(0);
    expect(simulateShards(small, 4, costs).containersInAll).toBe(4);
  });

  it("picks one shard for a function that fits a pool, and no more shards than containers", () => {
    expect(shardsFor(100, 20, 10, costs)).toBe(1);
    expect(shardsFor(40_000, 0, 64, costs)).toBe(8);
    expect(shardsFor(1_000_000, 0, 64, costs)).toBe(16);
    expect(shardsFor(1_000_000, 0, 3, costs)).toBe(2);
    expect(shardsFor(0, 5_000, 64, costs)).toBe(16);
  });

  it("refuses a shard count that is not a positive integer", () => {
    expect(() => simulateShards(bigMap, 0, costs)).toThrow(/shards must be a positive integer/);
  });
});

// The per-shard costs the sharding projection runs on. `npm run bench --
// --only ceiling` measures them on this machine and writes them to
// bench/pool-costs.json; without that file the projection uses the values
// below, taken from the last profile in bench/RESULTS.md.
import { HEARTBEAT_INTERVAL_MS } from "../../sdk/src/wire/protocol.js";
import type { CostsSource } from "./shards-report.js";

export const MEASURED_COSTS_FILE = "pool-costs.json";

export function defaultCostsSource(): CostsSource {
  return {
    origin: "defaults from bench/RESULTS.md's profile of 2026-11-29, not measured in this run",
    costs: {
      // workerd CPU per no-op map input, Worker included (it shares the thread locally).
      inputCpuUs: 106,
      requestCpuUs: 150,
      heartbeatCpuUs: 20,
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
      // One report a second keeps the coordinator's autoscaler view as fresh as its own alarm tick.
      reportIntervalMs: 1_000,
      reportCpuUs: 100,
      // Cloudflare's documented soft limit for one Durable Object.
      softLimitRps: 1_000,
      speedJitter: 0.2,
    },
  };
}

// `npm run simulate`: replays synthetic traces through Squall's autoscaler
// policy and the baselines in simulated time, prints the comparison, and
// writes bench/simulation.md and bench/simulation.svg; then projects one
// function sharded over 1, 4 and 16 pools (bench/sharding.md).
//   options: --seed N (default 1), --cold-start-ms N (default 2000), --target-inputs N (default 1),
//   --json (one JSON object per row on stdout instead of the table)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { runStrategy, type PoolModel } from "./simulation/engine.js";
import { ORACLE_NAME, standardStrategies } from "./simulation/policies.js";
import { jsonRow, markdownReport, markdownTable, svgChart, type ResultRow } from "./simulation/report.js";
import { standardTraces } from "./simulation/traces.js";
import { runShardProjection, shardSection, shardTable, type CostsSource } from "./simulation/shards-report.js";
import { MEASURED_COSTS_FILE, defaultCostsSource } from "./simulation/pool-costs.js";

function intArg(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer of at least ${min}, got "${raw}"`);
  return n;
}

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    "cold-start-ms": { type: "string", default: "2000" },
    "target-inputs": { type: "string", default: "1" },
    json: { type: "boolean", default: false },
  },
});
const seed = intArg("seed", values.seed, 0);
const model: PoolModel = {
  coldStartMs: intArg("cold-start-ms", values["cold-start-ms"], 0),
  targetInputs: intArg("target-inputs", values["target-inputs"], 1),
};

const began = performance.now();
const traces = standardTraces(seed);
const strategies = standardStrategies();
const rows: ResultRow[] = [];
for (const trace of traces) {
  const results = strategies.map((s) => ({ policy: s.name, metrics: runStrategy(trace, s, model) }));
  const bound = results.find((r) => r.policy === ORACLE_NAME)!.metrics.containerSeconds;
  for (const r of results) rows.push({ trace: trace.name, ...r, costRatio: r.metrics.containerSeconds / bound });
}
const elapsedS = (performance.now() - began) / 1000;

const bench = new URL("../bench/", import.meta.url);
mkdirSync(bench, { recursive: true });
writeFileSync(new URL("simulation.md", bench), markdownReport({ rows, traces, model, seed, oracleName: ORACLE_NAME }));
writeFileSync(new URL("simulation.svg", bench), svgChart(rows));

const costsFile = new URL(MEASURED_COSTS_FILE, bench);
const costs: CostsSource = existsSync(costsFile) ? (JSON.parse(readFileSync(costsFile, "utf8")) as CostsSource) : defaultCostsSource();
const shardRows = runShardProjection(costs.costs, seed);
writeFileSync(new URL("sharding.md", bench), shardSection(shardRows, costs, seed));

if (values.json) {
  for (const row of rows) console.log(JSON.stringify(jsonRow(row)));
  for (const row of shardRows) console.log(JSON.stringify({ workload: row.workload, chosenShards: row.chosenShards, ...row.result }));
  process.exit(0);
}
console.log(markdownTable(rows));
console.log(`\nPast one pool (costs ${costs.origin}):\n${shardTable(shardRows)}`);
const inputs = traces.reduce((n, t) => n + t.pools.reduce((m, p) => m + p.length, 0), 0);
console.log(
  `\n${inputs.toLocaleString("en-US")} inputs × ${strategies.length} policies in ${elapsedS.toFixed(1)} s; wrote bench/simulation.md, bench/simulation.svg and bench/sharding.md`,
);

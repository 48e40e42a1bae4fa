// Renders simulation results as a markdown table, a markdown report and an
// SVG chart. Pure string building: scripts/simulate.ts does the writing.
import type { Metrics, PoolModel } from "./engine.js";
import type { Trace } from "./traces.js";

export interface ResultRow {
  trace: string;
  policy: string;
  metrics: Metrics;
  /** Container-seconds divided by the oracle's on the same trace. */
  costRatio: number;
}

const pct = (x: number, digits = 1): string => `${(100 * x).toFixed(digits)} %`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** One row as `npm run simulate -- --json` prints it. */
export function jsonRow({ trace, policy, metrics: m, costRatio }: ResultRow): {
  trace: string;
  policy: string;
  containerSeconds: number;
  xOracle: number;
  coldStartPct: number;
  p99WaitS: number;
} {
  const round = (x: number, digits: number): number => Number(x.toFixed(digits));
  return {
    trace,
    policy,
    containerSeconds: Math.round(m.containerSeconds),
    xOracle: round(costRatio, 3),
    coldStartPct: round(100 * m.coldStartFraction, 3),
    p99WaitS: round(m.p99WaitMs / 1000, 2),
  };
}

export function markdownTable(rows: readonly ResultRow[]): string {
  const lines = ["| trace | policy | container-s | × oracle | idle | cold starts | p50 wait | p99 wait | starts |", "|---|---|--:|--:|--:|--:|--:|--:|--:|"];
  for (const { trace, policy, metrics: m, costRatio } of rows) {
    lines.push(
      `| ${trace} | ${policy} | ${Math.round(m.containerSeconds).toLocaleString("en-US")} | ${costRatio.toFixed(2)} | ${pct(m.idleFraction)} | ${pct(m.coldStartFraction, 2)} | ${secs(m.p50WaitMs)} | ${secs(m.p99WaitMs)} | ${m.starts.toLocaleString("en-US")} |`,
    );
  }
  return lines.join("\n");
}

/** Per trace: the cheapest policy and the one with the fewest cold starts, oracle aside. */
function highlights(rows: readonly ResultRow[], oracleName: string): string[] {
  const out: string[] = [];
  for (const trace of new Set(rows.map((r) => r.trace))) {
    const real = rows.filter((r) => r.trace === trace && r.policy !== oracleName);
    const cheapest = real.reduce((a, b) => (b.costRatio < a.costRatio ? b : a));
    const warmest = real.reduce((a, b) => {
      const colder = b.metrics.coldStartFraction - a.metrics.coldStartFraction;
      return colder < 0 || (colder === 0 && b.costRatio < a.costRatio) ? b : a;
    });
    out.push(
      `- **${trace}**: cheapest is ${cheapest.policy} (${cheapest.costRatio.toFixed(2)}× the oracle, ${pct(cheapest.metrics.coldStartFraction, 2)} cold); ` +
        `fewest cold starts: ${warmest.policy} (${pct(warmest.metrics.coldStartFraction, 2)}, ${warmest.costRatio.toFixed(2)}× the oracle).`,
    );
  }
  return out;
}

/** The policy names the issue's targets compare. */
export const AUTO_NAME = "squall auto";
export const FIXED_NAME = "squall (buffer 0)";

/**
 * Why a target is missed, where the simulation shows it is: measured, not
 * hoped (each cites rows of the table above).
 */
const WHY_MISSED: Record<string, string> = {
  "daily container-seconds":
    'The daily pool is almost never idle (even at the trough an input comes every 5 s on average), so there is no quiet spell to learn and "auto" is the fixed window. ' +
    "The cost above the bound is containers started for the day's fluctuations that live 60 s after their last input; releasing them sooner trades cold starts " +
    '("keep-alive 60 s, extras 20 s" above: cheaper, but more inputs wait for a start). Reaching 1.25× needs a forecast of the load (the daily cycle), not idle times.',
  "population container-seconds":
    'Every function of the population is a Poisson process: its idle intervals are exponential, without a rhythm, so "auto" keeps the fixed window for all of them. ' +
    "For exponential idle times, keeping a container from the moment the pool goes idle is the cheapest way to any given cold-start rate (the next input is likeliest right away), " +
    'so any cheaper keep-alive starts cold more often ("keep-alive 60 s, extras 20 s" above).',
  "bursty container-seconds":
    'The silences between bursts are exponential (mean 120 s): no rhythm, so "auto" keeps the fixed window. The cost is the containers a burst leaves behind; ' +
    'releasing those after 20 s instead of 60 s would meet this target ("keep-alive 60 s, extras 20 s" above) but start more inputs cold, which the first target forbids.',
};

/** The issue's targets for the auto policy, each met or missed by how much. */
function targets(rows: readonly ResultRow[], oracleName: string): string[] {
  const row = (trace: string, policy: string): ResultRow | undefined => rows.find((r) => r.trace === trace && r.policy === policy);
  const out: string[] = [];
  for (const trace of new Set(rows.map((r) => r.trace))) {
    const auto = row(trace, AUTO_NAME);
    const fixed = row(trace, FIXED_NAME);
    if (!auto || !fixed) continue;
    const a = auto.metrics.coldStartFraction;
    const f = fixed.metrics.coldStartFraction;
    out.push(
      `- **${trace}, cold starts** at most the fixed 60 s window's: ${pct(a, 3)} against ${pct(f, 3)}: ${a <= f ? "met" : `missed by ${pct(a - f, 3)}`}.`,
    );
  }
  const cost = (trace: string, what: string, limit: (auto: ResultRow) => { bound: number; text: string }): void => {
    const auto = row(trace, AUTO_NAME);
    if (!auto) return;
    const { bound, text } = limit(auto);
    const s = auto.metrics.containerSeconds;
    const met = s <= bound;
    const verdict = met ? "met" : `missed by ${Math.round(s - bound).toLocaleString("en-US")} container-s (${((s / bound - 1) * 100).toFixed(0)} % over)`;
    out.push(
      `- **${trace}, container-seconds** ${text}: ${Math.round(s).toLocaleString("en-US")} against ${Math.round(bound).toLocaleString("en-US")}: ${verdict}.${met ? "" : ` ${WHY_MISSED[`${trace} ${what}`] ?? ""}`}`,
    );
  };
  for (const trace of ["daily", "population"]) {
    cost(trace, "container-seconds", () => ({ bound: 1.25 * row(trace, oracleName)!.metrics.containerSeconds, text: "at most 1.25× the oracle's" }));
  }
  cost("bursty", "container-seconds", () => ({ bound: 0.5 * row("bursty", FIXED_NAME)!.metrics.containerSeconds, text: "under half the fixed 60 s window's" }));
  return out;
}

export interface ReportInput {
  rows: readonly ResultRow[];
  traces: readonly Trace[];
  model: PoolModel;
  seed: number;
  oracleName: string;
}

export function markdownReport({ rows, traces, model, seed, oracleName }: ReportInput): string {
  return `# Autoscaler simulation

Generated by \`npm run simulate\` (seed ${seed}, cold start ${model.coldStartMs / 1000} s, targetInputs ${model.targetInputs}).
Every number below comes from replaying synthetic traces, in simulated time, through the real
policy module (\`planScaling\` from \`src/pool/autoscaler.ts\`) and through baselines.

${markdownTable(rows)}

![container-seconds against cold starts](simulation.svg)

${highlights(rows, oracleName).join("\n")}

## Targets for \`scaledownWindowMs: "auto"\`

From issue 17, checked against the table above:

${targets(rows, oracleName).join("\n")}

## Model

- **Pool.** Each function has its own pool. A container serves up to \`targetInputs\` inputs at once.
  Inputs wait in FIFO order for a free slot; free slots are filled as \`FunctionPool.pump\` does
  (busiest ready container first, oldest first among equals). A started container takes
  ${model.coldStartMs / 1000} s before it takes inputs; an input runs for the service time the trace gives it.
- **Policies** only decide which containers to start and stop, and may only stop idle ones. The
  engine asks them after every event (arrival, completion, container ready) and at the wake-up
  time they ask for, as the DO runs the policy on load changes and on its alarm.
- **Container-seconds** count from the start request until the stop, boot included (that is what is
  billed). **Idle** is the part with a ready container running nothing. A run ends when the
  policy has stopped everything, so the tail a policy keeps after the last input is billed to it.
- **Cold start**: the input got its slot on a container that was not yet ready when the input
  arrived. **Wait**: from arrival to getting a slot (cold or queued behind busy containers).

## Policies

- **squall (buffer 0 / 1)**: \`planScaling\` with the default settings (minContainers 0,
  scaledownWindowMs 60 000), and the same with bufferContainers 1.
- **squall auto**: \`planScaling\` with \`scaledownWindowMs: "auto"\`, driven as the pool drives it
  (\`src/pool/keep-alive.ts\`, \`src/pool/idle-histogram.ts\`): the pool's idle intervals go into a
  histogram; once it has 6, if they have a rhythm (99th percentile at most 1.5× the 5th, bin-count
  CV at least 2, at most half beyond 4.5 h), the pool releases its containers as it goes idle,
  starts one again a start-up before 98 % of the 5th percentile and keeps it until 105 % of the
  99th (or of the shortest and longest recorded, if the few outside those would otherwise start
  cold), but only if that plan, replayed on the recorded intervals, starts cold no more often and
  keeps containers no longer than the fixed 60 s window. Otherwise, and while the pool has work,
  it is the fixed 60 s window. The start-up it plans with is the model's cold start.
- **keep-alive 60 s / 10 min**: one new container per waiting input's worth of slots; a container
  stops that long after its last input.
- **keep-alive 60 s, extras 20 s**: as keep-alive 60 s for the pool's last container, 20 s for any
  other. Not offered by Squall: it shows what releasing a burst's containers sooner costs.
- **KPA-like**: Knative's Pod Autoscaler in outline: scales to the average concurrency (running +
  queued) over a 60 s stable window at 70 % target utilization, re-evaluated every 2 s; panics
  when the 6 s window wants twice the ready containers, never scales down while panicking, and
  leaves panic 60 s after the last trigger; at zero, one container starts at once (the activator).
- **oracle (bound)**: knows the future; every input starts on arrival on a container booted
  exactly one cold start before, and a container bridges a gap only when the gap is shorter
  than a cold start. Zero cold starts at the minimum container-seconds for that, computed
  directly (exact for targetInputs 1; with more it assumes perfect packing).
  A policy that makes inputs queue can in principle use fewer container-seconds than this bound.

## Traces

${traces.map((t) => `- **${t.name}** (${t.pools.length} pool${t.pools.length === 1 ? "" : "s"}): ${t.description}.`).join("\n")}
`;
}

// ---- chart ---------------------------------------------------------------------

const WIDTH = 900;
const HEIGHT = 540;
const PLOT = { left: 80, right: 640, top: 50, bottom: 470 };
const COLORS = ["#1f77b4", "#17becf", "#ff7f0e", "#d62728", "#9467bd", "#2ca02c", "#8c564b", "#e377c2"];

const escapeXml = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A marker centred on (x, y): one shape per trace, hollow so coincident points stay visible. */
function marker(shapeIndex: number, x: number, y: number, r: number, color: string, title: string): string {
  const style = `fill="none" stroke="${color}" stroke-width="2"`;
  const tip = `<title>${escapeXml(title)}</title>`;
  const f = (n: number): string => n.toFixed(1);
  switch (shapeIndex % 5) {
    case 0:
      return `<circle cx="${f(x)}" cy="${f(y)}" r="${f(r)}" ${style}>${tip}</circle>`;
    case 1:
      return `<rect x="${f(x - r)}" y="${f(y - r)}" width="${f(2 * r)}" height="${f(2 * r)}" ${style}>${tip}</rect>`;
    case 2:
      return `<polygon points="${f(x)},${f(y - r * 1.2)} ${f(x + r * 1.1)},${f(y + r * 0.8)} ${f(x - r * 1.1)},${f(y + r * 0.8)}" ${style}>${tip}</polygon>`;
    case 3:
      return `<polygon points="${f(x)},${f(y - r * 1.3)} ${f(x + r * 1.3)},${f(y)} ${f(x)},${f(y + r * 1.3)} ${f(x - r * 1.3)},${f(y)}" ${style}>${tip}</polygon>`;
    default:
      return `<polygon points="${f(x)},${f(y + r * 1.2)} ${f(x + r * 1.1)},${f(y - r * 0.8)} ${f(x - r * 1.1)},${f(y - r * 0.8)}" ${style}>${tip}</polygon>`;
  }
}

/** Ticks on a 1-2-5 sequence from 1 up to max. */
function logTicks(max: number): number[] {
  const ticks: number[] = [];
  for (let decade = 1; decade <= max; decade *= 10) {
    for (const m of [1, 2, 5]) if (m * decade <= max) ticks.push(m * decade);
  }
  return ticks;
}

/**
 * x: container-seconds normalised to the oracle (log scale, 1 = the bound);
 * y: cold-start fraction. One marker per policy (colour) per trace (shape).
 */
export function svgChart(rows: readonly ResultRow[]): string {
  const policies = [...new Set(rows.map((r) => r.policy))];
  const traces = [...new Set(rows.map((r) => r.trace))];
  // Margins around the data so markers at 1x or 0 % do not sit on the frame.
  const xMax = Math.max(2, Math.max(...rows.map((r) => r.costRatio)) * 1.2);
  const xMin = 1 / 1.08;
  const xTicks = logTicks(xMax);
  // y in steps of 5 %, with headroom over the highest point.
  const yMax = Math.max(0.05, Math.ceil((Math.max(...rows.map((r) => r.metrics.coldStartFraction)) * 1.1) / 0.05) * 0.05);
  const yMin = -0.03 * yMax;
  const yStep = yMax > 0.5 ? 0.1 : yMax > 0.2 ? 0.05 : 0.01;
  const sx = (ratio: number): number => PLOT.left + (Math.log(ratio / xMin) / Math.log(xMax / xMin)) * (PLOT.right - PLOT.left);
  const sy = (fraction: number): number => PLOT.bottom - ((fraction - yMin) / (yMax - yMin)) * (PLOT.bottom - PLOT.top);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${(PLOT.left + PLOT.right) / 2}" y="28" text-anchor="middle" font-size="16" font-weight="600">Autoscaler policies: cost against cold starts</text>`,
  ];

  for (const t of xTicks) {
    const x = sx(t).toFixed(1);
    out.push(`<line x1="${x}" y1="${PLOT.top}" x2="${x}" y2="${PLOT.bottom}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x}" y="${PLOT.bottom + 18}" text-anchor="middle" fill="#333">${t}×</text>`);
  }
  for (let i = 0; i * yStep <= yMax + 1e-9; i++) {
    const v = i * yStep;
    const y = sy(v).toFixed(1);
    out.push(`<line x1="${PLOT.left}" y1="${y}" x2="${PLOT.right}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${PLOT.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#333">${Math.round(v * 100)} %</text>`);
  }
  out.push(`<rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.right - PLOT.left}" height="${PLOT.bottom - PLOT.top}" fill="none" stroke="#333"/>`);
  out.push(
    `<text x="${(PLOT.left + PLOT.right) / 2}" y="${PLOT.bottom + 44}" text-anchor="middle" font-size="13">container-seconds ÷ oracle's (log scale; 1× = the clairvoyant bound)</text>`,
  );
  const yMid = (PLOT.top + PLOT.bottom) / 2;
  out.push(`<text x="22" y="${yMid}" text-anchor="middle" font-size="13" transform="rotate(-90 22 ${yMid})">inputs that waited for a cold start</text>`);

  // Earlier policies get bigger markers, so identical results show as concentric rings.
  const radius = (p: number): number => 9 - (4 * p) / Math.max(1, policies.length - 1);
  for (const r of rows) {
    const p = policies.indexOf(r.policy);
    const title = `${r.trace} / ${r.policy}: ${r.costRatio.toFixed(2)}× oracle, ${(100 * r.metrics.coldStartFraction).toFixed(1)} % cold`;
    out.push(marker(traces.indexOf(r.trace), sx(r.costRatio), sy(r.metrics.coldStartFraction), radius(p), COLORS[p % COLORS.length]!, title));
  }

  const lx = PLOT.right + 24;
  out.push(`<text x="${lx}" y="${PLOT.top + 4}" font-weight="600">policy (colour)</text>`);
  policies.forEach((name, p) => {
    const y = PLOT.top + 26 + p * 22;
    out.push(`<line x1="${lx}" y1="${y}" x2="${lx + 22}" y2="${y}" stroke="${COLORS[p % COLORS.length]!}" stroke-width="4"/>`);
    out.push(`<text x="${lx + 30}" y="${y}" dominant-baseline="middle">${escapeXml(name)}</text>`);
  });
  const ty = PLOT.top + 26 + policies.length * 22 + 24;
  out.push(`<text x="${lx}" y="${ty}" font-weight="600">trace (shape)</text>`);
  traces.forEach((name, t) => {
    const y = ty + 22 + t * 22;
    out.push(marker(t, lx + 11, y, 6, "#555", name));
    out.push(`<text x="${lx + 30}" y="${y}" dominant-baseline="middle">${escapeXml(name)}</text>`);
  });
  out.push(`<text x="${lx}" y="${ty + 22 + traces.length * 22 + 10}" fill="#666" font-size="11">Concentric rings: policies with</text>`);
  out.push(`<text x="${lx}" y="${ty + 22 + traces.length * 22 + 25}" fill="#666" font-size="11">identical results on a trace.</text>`);
  out.push("</svg>");
  return out.join("\n") + "\n";
}

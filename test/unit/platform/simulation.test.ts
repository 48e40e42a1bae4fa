import { describe, it, expect } from "vitest";
import { runStrategy, simulatePool, type Metrics, type Policy, type PoolModel } from "../../../scripts/simulation/engine.js";
import { ORACLE_NAME, keepAlive, oracle, squall, squallAuto, standardStrategies } from "../../../scripts/simulation/policies.js";
import { svgChart, type ResultRow } from "../../../scripts/simulation/report.js";
import { BURSTY, DAILY_CYCLE, POPULATION, TIMERS, WILD, bursty, dailyCycle, population, timers, wild, type Trace } from "../../../scripts/simulation/traces.js";

const model: PoolModel = { targetInputs: 1, coldStartMs: 2_000 };

// The standard traces, shortened so the whole file runs in a few seconds.
function shortTraces(seed: number): Trace[] {
  return [
    dailyCycle(seed, { ...DAILY_CYCLE, hourMs: 10_000 }),
    bursty(seed, { ...BURSTY, durationMs: 1_800_000 }),
    population(seed, { ...POPULATION, functions: 20, durationMs: 600_000 }),
    timers(seed, { ...TIMERS, functions: 8, durationMs: 4 * 3_600_000 }),
    wild(seed, { ...WILD, functions: 20, durationMs: 4 * 3_600_000 }),
  ];
}

const seed = 7;
const traces = shortTraces(seed);
const strategies = standardStrategies();
const results = new Map<string, Map<string, Metrics>>(traces.map((t) => [t.name, new Map(strategies.map((s) => [s.name, runStrategy(t, s, model)]))]));
const metrics = (trace: string, policy: string): Metrics => results.get(trace)!.get(policy)!;

describe("autoscaler simulator", () => {
  it("bills one lone input as boot + service + the scale-down window", () => {
    const trace = [{ arrivalMs: 0, serviceMs: 1_000 }];
    for (const s of [squall("squall"), keepAlive("keep-alive", 60_000)]) {
      const r = s.simulate(trace, model);
      expect(r).toMatchObject({ containerMs: 63_000, idleMs: 60_000, bootMs: 2_000, starts: 1 });
      expect(r.outcomes).toEqual([{ waitMs: 2_000, cold: true, doneAtMs: 3_000 }]);
    }
  });

  it("conserves inputs: each completes once, exactly its service time after it got a slot", () => {
    for (const trace of traces) {
      for (const s of strategies) {
        for (const pool of trace.pools) {
          const { outcomes } = s.simulate(pool, model);
          expect(outcomes).toHaveLength(pool.length);
          pool.forEach((input, i) => {
            const o = outcomes[i]!;
            expect(o.waitMs).toBeGreaterThanOrEqual(0);
            expect(o.doneAtMs).toBe(input.arrivalMs + o.waitMs + input.serviceMs);
          });
        }
      }
    }
  });

  it("refuses a policy that stops a container with work on it", () => {
    const trace = [{ arrivalMs: 0, serviceMs: 10_000 }];
    const greedy: Policy = {
      decide: (p) => ({ start: p.containers.length === 0 ? 1 : 0, stop: p.containers.filter((c) => c.ready).map((c) => c.id), wakeAtMs: null }),
    };
    expect(() => simulatePool(trace, model, greedy)).toThrow(/not idle/);
  });

  it("the oracle bridges a gap shorter than a cold start and reboots for a longer one", () => {
    const bound = oracle("oracle");
    const near = bound.simulate(
      [
        { arrivalMs: 0, serviceMs: 1_000 },
        { arrivalMs: 2_000, serviceMs: 1_000 },
      ],
      model,
    );
    expect(near).toMatchObject({ containerMs: 5_000, idleMs: 1_000, bootMs: 2_000, starts: 1 });
    const far = bound.simulate(
      [
        { arrivalMs: 0, serviceMs: 1_000 },
        { arrivalMs: 6_000, serviceMs: 1_000 },
      ],
      model,
    );
    expect(far).toMatchObject({ containerMs: 6_000, idleMs: 0, bootMs: 4_000, starts: 2 });
  });

  it("the oracle has no cold starts and the fewest container-seconds on every trace", () => {
    for (const trace of traces) {
      const bound = metrics(trace.name, ORACLE_NAME);
      expect(bound.coldStartFraction).toBe(0);
      expect(bound.p99WaitMs).toBe(0);
      for (const s of strategies) {
        if (s.name !== ORACLE_NAME) expect(metrics(trace.name, s.name).containerSeconds, `${trace.name} / ${s.name}`).toBeGreaterThan(bound.containerSeconds);
      }
    }
  });

  it("on bursts, a 10 min keep-alive has fewer cold starts than a 60 s one", () => {
    expect(metrics("bursty", "keep-alive 10 min").coldStartFraction).toBeLessThan(metrics("bursty", "keep-alive 60 s").coldStartFraction);
  });

  it("on bursts, Squall with a buffer container has fewer cold starts than without", () => {
    expect(metrics("bursty", "squall (buffer 1)").coldStartFraction).toBeLessThan(metrics("bursty", "squall (buffer 0)").coldStartFraction);
  });

  it('"auto" never has more cold starts than the fixed 60 s window it falls back to', () => {
    for (const trace of traces) {
      expect(metrics(trace.name, "squall auto").coldStartFraction, trace.name).toBeLessThanOrEqual(metrics(trace.name, "squall (buffer 0)").coldStartFraction);
    }
  });

  it('on timer-driven functions, "auto" pre-warms: far fewer cold starts and fewer container-seconds than the fixed window', () => {
    const auto = metrics("timers", "squall auto");
    const fixed = metrics("timers", "squall (buffer 0)");
    expect(auto.coldStartFraction).toBeLessThan(fixed.coldStartFraction / 2);
    expect(auto.containerSeconds).toBeLessThan(fixed.containerSeconds);
  });

  it('"auto" on a steady 20 s rhythm: after learning, every input finds a pre-warmed container', () => {
    const trace = Array.from({ length: 30 }, (_, i) => ({ arrivalMs: i * 20_000, serviceMs: 200 }));
    const { outcomes } = squallAuto("auto").simulate(trace, model);
    expect(outcomes.slice(8).every((o) => !o.cold)).toBe(true);
    const fixed = squall("fixed").simulate(trace, model);
    expect(squallAuto("auto").simulate(trace, model).containerMs).toBeLessThan(fixed.containerMs / 2);
  });

  it("is deterministic for a seed and varies with it", () => {
    expect(shortTraces(seed)).toEqual(traces);
    const again = runStrategy(shortTraces(seed)[1]!, squall("squall"), model);
    expect(again).toEqual(metrics("bursty", "squall (buffer 0)"));
    expect(shortTraces(seed + 1)[1]!.pools).not.toEqual(traces[1]!.pools);
  });

  it("draws one marker per policy per trace", () => {
    const rows: ResultRow[] = traces.flatMap((t) =>
      strategies.map((s) => ({
        trace: t.name,
        policy: s.name,
        metrics: metrics(t.name, s.name),
        costRatio: metrics(t.name, s.name).containerSeconds / metrics(t.name, ORACLE_NAME).containerSeconds,
      })),
    );
    const svg = svgChart(rows);
    expect(svg.startsWith("<svg")).toBe(true);
    // Markers carry a hover title "trace / policy: ..."; legend entries do not contain " / ".
    expect(svg.match(/<title>[^<]* \/ [^<]*<\/title>/g)).toHaveLength(rows.length);
    expect(svg).not.toMatch(/NaN|Infinity/);
  });
});

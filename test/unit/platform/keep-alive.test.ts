import { describe, it, expect } from "vitest";
import {
  BIN_COUNT,
  DECAY_AT_WEIGHT,
  RANGE_MS,
  binOf,
  emptyHistogram,
  emptyRhythm,
  lowerEdgeMs,
  observeLoad,
  observeStartup,
  parseRhythm,
  percentileBin,
  recordIdle,
  upperEdgeMs,
  weight,
  type IdleHistogram,
  type PoolRhythm,
} from "../../../src/pool/idle-histogram";
import { KEEP_ALIVE, adaptiveStats, autoKeepAlive, decideKeepAlive, plannedStartupMs, scalingConfig } from "../../../src/pool/keep-alive";
import { planScaling } from "../../../src/pool/autoscaler";
import type { AutoscalerSettings } from "../../../sdk/src/wire/options";

const histogramOf = (idleMs: number[]): IdleHistogram => idleMs.reduce(recordIdle, emptyHistogram());
/** A pool that has seen these idle intervals and went idle at idleSinceMs (null: it is busy). */
const rhythmOf = (idleMs: number[], idleSinceMs: number | null): PoolRhythm => ({
  histogram: histogramOf(idleMs),
  idleSinceMs,
  busy: idleSinceMs === null,
  startupMs: null,
});
const every20s = Array.from({ length: 10 }, (_, i) => 19_600 + (i % 4) * 200);
const STARTUP_MS = 2_000;
const auto: AutoscalerSettings = { minContainers: 0, maxContainers: null, bufferContainers: 0, scaledownWindowMs: "auto" };

describe("idle-interval histogram", () => {
  it("puts each interval in the bin whose edges hold it, each bin under 5 % wide", () => {
    for (const ms of [0, 999, 1_000, 1_500, 20_000, 59_999, 3_600_000, RANGE_MS - 1]) {
      const bin = binOf(ms);
      expect(bin).toBeLessThan(BIN_COUNT);
      expect(lowerEdgeMs(bin)).toBeLessThanOrEqual(ms);
      expect(upperEdgeMs(bin)).toBeGreaterThan(ms);
    }
    for (let bin = 1; bin < BIN_COUNT; bin++) expect(upperEdgeMs(bin) / lowerEdgeMs(bin)).toBeLessThan(1.05);
    expect(RANGE_MS).toBeGreaterThan(4 * 3_600_000);
  });

  it("counts intervals past its range as out of bounds", () => {
    const h = histogramOf([RANGE_MS, 10 * 3_600_000, 5_000]);
    expect(h.outOfBounds).toBe(2);
    expect(weight(h)).toBe(3);
    expect(percentileBin(h, 0.99)).toBe(binOf(5_000));
  });

  it("stays bounded however many intervals it sees, and keeps its shape", () => {
    const h = histogramOf(Array.from({ length: 10_000 }, (_, i) => (i % 10 === 0 ? 600_000 : 20_000)));
    expect(h.counts).toHaveLength(BIN_COUNT);
    expect(weight(h)).toBeLessThan(DECAY_AT_WEIGHT);
    expect(JSON.stringify(h).length).toBeLessThan(8_000);
    expect(percentileBin(h, 0.5)).toBe(binOf(20_000));
    expect(percentileBin(h, 0.95)).toBe(binOf(600_000));
  });

  it("records an idle interval when work arrives at an idle pool, and only then", () => {
    let r = emptyRhythm();
    r = observeLoad(r, true, 1_000)!; // first work ever: no interval before it
    expect(weight(r.histogram)).toBe(0);
    expect(observeLoad(r, true, 2_000)).toBeNull();
    r = observeLoad(r, false, 3_000)!;
    expect(r).toMatchObject({ busy: false, idleSinceMs: 3_000 });
    expect(observeLoad(r, false, 4_000)).toBeNull();
    r = observeLoad(r, true, 23_000)!;
    expect(r).toMatchObject({ busy: true, idleSinceMs: null });
    expect(r.histogram.counts[binOf(20_000)]).toBe(1);
    expect(weight(r.histogram)).toBe(1);
  });

  it("averages start-up times, recent ones weighing most", () => {
    let r = observeStartup(emptyRhythm(), 1_000);
    expect(r.startupMs).toBe(1_000);
    r = observeStartup(r, 2_000);
    expect(r.startupMs).toBe(1_300);
    expect(plannedStartupMs(r)).toBe(1_950);
    expect(plannedStartupMs(emptyRhythm())).toBe(5_000);
  });

  it("survives a round trip through the pool's storage", () => {
    const r: PoolRhythm = { ...rhythmOf([...every20s, RANGE_MS * 2], 123_456), startupMs: 1_400 };
    expect(parseRhythm(JSON.parse(JSON.stringify(r)))).toEqual(r);
  });

  it.each([
    ["nothing", null],
    ["a string", "rhythm"],
    ["an empty object", {}],
    ["busy not a boolean", { ...emptyRhythm(), busy: "no" }],
    ["too few bins", { ...emptyRhythm(), histogram: { counts: [1, 2, 3], outOfBounds: 0 } }],
    ["negative counts", { ...emptyRhythm(), histogram: { counts: new Array(BIN_COUNT).fill(-1), outOfBounds: 0 } }],
    ["a non-numeric idle start", { ...emptyRhythm(), idleSinceMs: "yesterday" }],
  ])("starts afresh from a damaged record: %s", (_, raw) => {
    expect(parseRhythm(raw)).toEqual(emptyRhythm());
  });
});

describe("keep-alive decision", () => {
  it("uses the fixed 60 s window while it has too few intervals", () => {
    const d = decideKeepAlive({ rhythm: rhythmOf(every20s.slice(0, 5), 0), nowMs: 1_000, startupMs: STARTUP_MS });
    expect(d).toMatchObject({ representative: false, keepAliveMs: 60_000, scaledownWindowMs: 60_000, warmContainers: 0, prewarmAtMs: null, wakeAtMs: null });
    expect(d.reason).toMatch(/learning: 5 of 6 idle intervals/);
  });

  it("learns a 20 s rhythm: releases at idle, pre-warms one before the next input, keeps it past the tail, then lets it go", () => {
    const idleSinceMs = 100_000;
    const at = (nowMs: number) => decideKeepAlive({ rhythm: rhythmOf(every20s, idleSinceMs), nowMs, startupMs: STARTUP_MS });
    const released = at(idleSinceMs);
    expect(released.representative).toBe(true);
    expect(released.reason).toMatch(/learned from 10 idle intervals.*pre-warms one/);
    const prewarmAfterMs = released.prewarmAfterMs!;
    // Started at least a start-up before the earliest recorded arrival (19.6 s), not long before.
    expect(prewarmAfterMs + STARTUP_MS).toBeLessThanOrEqual(19_600);
    expect(prewarmAfterMs).toBeGreaterThan(14_000);
    expect(released.keepAliveMs).toBeGreaterThanOrEqual(20_200);
    expect(released.keepAliveMs).toBeLessThan(23_000);
    expect(released).toMatchObject({
      scaledownWindowMs: 0,
      warmContainers: 0,
      prewarmAtMs: idleSinceMs + prewarmAfterMs,
      wakeAtMs: idleSinceMs + prewarmAfterMs,
    });

    expect(at(idleSinceMs + prewarmAfterMs)).toMatchObject({ warmContainers: 1, scaledownWindowMs: 0, wakeAtMs: idleSinceMs + released.keepAliveMs });
    expect(at(idleSinceMs + released.keepAliveMs)).toMatchObject({ warmContainers: 0, prewarmAtMs: null, wakeAtMs: null });
  });

  it("while the pool has work, containers follow the fixed window", () => {
    expect(decideKeepAlive({ rhythm: rhythmOf(every20s, null), nowMs: 0, startupMs: STARTUP_MS })).toMatchObject({
      representative: true,
      scaledownWindowMs: 60_000,
      warmContainers: 0,
      wakeAtMs: null,
      prewarmAtMs: null,
    });
  });

  it.each([
    ["Poisson arrivals (no rhythm)", Array.from({ length: 40 }, (_, i) => Math.round(-Math.log((i + 0.5) / 40) * 30_000)), /spread from/],
    ["mostly beyond 4.5 h", [...every20s.slice(0, 3), ...Array.from({ length: 7 }, () => RANGE_MS * 2)], /70 % of idle intervals exceed/],
    ["a rhythm faster than a release and restart", Array.from({ length: 10 }, () => 4_000), /too soon to release/],
    [
      "an hourly rhythm (warm longer than the fixed window would be)",
      Array.from({ length: 10 }, (_, i) => 3_600_000 + i * 1_000),
      /would not beat the fixed window/,
    ],
  ])("falls back to the fixed window for %s", (_, intervals, reason) => {
    const d = decideKeepAlive({ rhythm: rhythmOf(intervals, 0), nowMs: 1, startupMs: STARTUP_MS });
    expect(d).toMatchObject({ representative: false, scaledownWindowMs: KEEP_ALIVE.fallbackWindowMs, warmContainers: 0, prewarmAtMs: null });
    expect(d.reason).toMatch(reason);
  });

  it("a 10 min rhythm is worth pre-warming: ready before the input, warm for less than the fixed window before it", () => {
    const d = decideKeepAlive({
      rhythm: rhythmOf(
        Array.from({ length: 10 }, (_, i) => 600_000 + i * 100),
        0,
      ),
      nowMs: 1,
      startupMs: STARTUP_MS,
    });
    expect(d.representative).toBe(true);
    expect(d.prewarmAfterMs! + STARTUP_MS).toBeLessThanOrEqual(600_000);
    expect(600_900 - d.prewarmAfterMs!).toBeLessThan(60_000);
    expect(d.keepAliveMs).toBeGreaterThan(600_900);
  });

  it("is only asked for an auto pool, and only then shows in stats", () => {
    const r = rhythmOf(every20s, 0);
    expect(autoKeepAlive({ ...auto, scaledownWindowMs: 30_000 }, r, 1)).toBeNull();
    expect(adaptiveStats(null, r)).toEqual({});
    const d = autoKeepAlive(auto, r, 1)!;
    expect(adaptiveStats(d, r).adaptive).toMatchObject({ representative: true, samples: 10, prewarmAtMs: d.prewarmAtMs, keepAliveMs: d.keepAliveMs });
  });
});

describe("auto in planScaling: minContainers, maxContainers and bufferContainers still win", () => {
  const idleSinceMs = 100_000;
  const learned = (nowMs: number) => decideKeepAlive({ rhythm: rhythmOf(every20s, idleSinceMs), nowMs, startupMs: STARTUP_MS });
  const idleContainer = { id: "c1", phase: "idle" as const, idleSinceMs };

  it("stops the idle container as the pool goes idle and starts one at the pre-warm", () => {
    const now = idleSinceMs + 1;
    expect(planScaling(scalingConfig(auto, 1, learned(now)), { pending: 0, running: 0 }, [idleContainer], now).stop).toEqual(["c1"]);
    const prewarmAtMs = learned(now).prewarmAtMs!;
    expect(planScaling(scalingConfig(auto, 1, learned(prewarmAtMs)), { pending: 0, running: 0 }, [], prewarmAtMs).start).toBe(1);
  });

  it("keeps minContainers through a release, and starts no pre-warm past maxContainers", () => {
    const now = idleSinceMs + 1;
    const floor = planScaling(scalingConfig({ ...auto, minContainers: 1 }, 1, learned(now)), { pending: 0, running: 0 }, [idleContainer], now);
    expect(floor.stop).toEqual([]);
    const prewarmAtMs = learned(now).prewarmAtMs!;
    const capped = planScaling(
      scalingConfig({ ...auto, maxContainers: 1 }, 1, learned(prewarmAtMs)),
      { pending: 1, running: 0 },
      [{ id: "c2", phase: "starting", idleSinceMs: null }],
      prewarmAtMs,
    );
    expect(capped.start).toBe(0);
  });

  it("adds bufferContainers while there is work, as with a fixed window", () => {
    const busy = decideKeepAlive({ rhythm: rhythmOf(every20s, null), nowMs: 0, startupMs: STARTUP_MS });
    expect(planScaling(scalingConfig({ ...auto, bufferContainers: 2 }, 1, busy), { pending: 1, running: 0 }, [], 0).start).toBe(3);
  });

  it("passes a fixed window through, and treats auto without a decision as the fixed default", () => {
    expect(scalingConfig({ ...auto, scaledownWindowMs: 9_000 }, 4, null)).toEqual({ ...auto, scaledownWindowMs: 9_000, targetInputs: 4 });
    expect(scalingConfig(auto, 1, null).scaledownWindowMs).toBe(60_000);
  });
});

import { describe, it, expect } from "vitest";
import { planScaling, desiredContainers, type ContainerView, type ScalingConfig } from "../../../src/pool/autoscaler";
import { effectiveSettings, settingOrigins, type PoolConfig } from "../../../src/pool/config";
import { resolveOptions } from "../../../sdk/src/wire/options";

const base: ScalingConfig = { minContainers: 0, maxContainers: null, bufferContainers: 0, scaledownWindowMs: 60_000, targetInputs: 1 };
const idle = (id: string, idleSinceMs: number): ContainerView => ({ id, phase: "idle", idleSinceMs });
const busy = (id: string): ContainerView => ({ id, phase: "busy", idleSinceMs: null });
const starting = (id: string): ContainerView => ({ id, phase: "starting", idleSinceMs: null });

describe("autoscaler policy", () => {
  it("plans ceil(load / targetInputs) containers", () => {
    expect(desiredContainers({ ...base, targetInputs: 10 }, { pending: 35, running: 0 })).toBe(4);
    expect(desiredContainers(base, { pending: 3, running: 2 })).toBe(5);
  });

  it("scales to zero by default when there is no load", () => {
    expect(desiredContainers(base, { pending: 0, running: 0 })).toBe(0);
  });

  it("keeps minContainers while idle", () => {
    const plan = planScaling({ ...base, minContainers: 2 }, { pending: 0, running: 0 }, [], 0);
    expect(plan.start).toBe(2);
  });

  it("adds bufferContainers only while the function is active", () => {
    expect(desiredContainers({ ...base, bufferContainers: 3 }, { pending: 1, running: 0 })).toBe(4);
    expect(desiredContainers({ ...base, bufferContainers: 3 }, { pending: 0, running: 0 })).toBe(0);
  });

  it("never plans above maxContainers, even with buffer", () => {
    expect(desiredContainers({ ...base, maxContainers: 5, bufferContainers: 3 }, { pending: 100, running: 0 })).toBe(5);
  });

  it("minContainers wins over a lower load but not over maxContainers", () => {
    expect(desiredContainers({ ...base, minContainers: 3, maxContainers: 3 }, { pending: 0, running: 0 })).toBe(3);
  });

  it("counts starting containers as capacity", () => {
    const plan = planScaling(base, { pending: 3, running: 0 }, [starting("a"), starting("b")], 0);
    expect(plan.start).toBe(1);
  });

  it("stops containers idle longer than the window, most idle first, keeping the floor", () => {
    const now = 100_000;
    const containers = [idle("recent", now - 10_000), idle("oldest", now - 90_000), idle("old", now - 70_000)];
    const plan = planScaling({ ...base, minContainers: 1 }, { pending: 0, running: 0 }, containers, now);
    expect(plan.stop).toEqual(["oldest", "old"]);
    expect(plan.start).toBe(0);
  });

  it("keeps idle containers inside the window and wakes when the first window ends", () => {
    const now = 100_000;
    const plan = planScaling(base, { pending: 0, running: 0 }, [idle("a", now - 10_000), idle("b", now - 20_000)], now);
    expect(plan.stop).toEqual([]);
    expect(plan.wakeAtMs).toBe(now - 20_000 + 60_000);
  });

  it("never stops busy containers", () => {
    const plan = planScaling(base, { pending: 0, running: 1 }, [busy("a"), idle("b", 0)], 100_000);
    expect(plan.stop).toEqual(["b"]);
  });

  it("stops idle containers over a lowered maxContainers at once", () => {
    const now = 1_000;
    const plan = planScaling({ ...base, maxContainers: 1 }, { pending: 0, running: 1 }, [busy("a"), idle("b", now), idle("c", now)], now);
    expect(plan.stop.sort()).toEqual(["b", "c"]);
  });

  it("asks for a whole burst at once", () => {
    const plan = planScaling({ ...base, maxContainers: 20 }, { pending: 200, running: 0 }, [], 0);
    expect(plan.start).toBe(20);
  });

  it("has nothing to wake for when idle with no containers", () => {
    const plan = planScaling(base, { pending: 0, running: 0 }, [], 0);
    expect(plan).toEqual({ start: 0, stop: [], wakeAtMs: null, desired: 0 });
  });
});

describe("settings in layers (effectiveSettings, settingOrigins)", () => {
  const config = (overrides: PoolConfig["overrides"], overrideSources: PoolConfig["overrideSources"], declared: Record<string, unknown> = {}): PoolConfig => ({
    version: 1,
    workspaceId: "ws",
    appName: "a",
    functionId: "fn",
    functionName: "f",
    kind: "function",
    params: null,
    deploymentId: "dep",
    options: resolveOptions("f", declared),
    overrides,
    overrideSources,
    publicUrl: "http://x",
  });

  it("takes each overridden field from its layer and the rest from the declared options", () => {
    const c = config({ maxContainers: 4, scaledownWindowMs: 9_000 }, { maxContainers: "override", scaledownWindowMs: "schedule" }, { bufferContainers: 1 });
    expect(effectiveSettings(c)).toEqual({ minContainers: 0, maxContainers: 4, bufferContainers: 1, scaledownWindowMs: 9_000 });
    expect(settingOrigins(c)).toEqual({ minContainers: "declared", maxContainers: "override", bufferContainers: "declared", scaledownWindowMs: "schedule" });
  });

  it("holds a minContainers above maxContainers at maxContainers, marked clamped, instead of failing", () => {
    const c = config({ minContainers: 2, maxContainers: 1 }, { minContainers: "schedule", maxContainers: "override" });
    expect(effectiveSettings(c)).toMatchObject({ minContainers: 1, maxContainers: 1 });
    expect(settingOrigins(c)).toMatchObject({ minContainers: "clamped", maxContainers: "override" });
    // Against a declared ceiling too, and never with no ceiling at all.
    expect(effectiveSettings(config({ minContainers: 5 }, { minContainers: "override" }, { maxContainers: 3 })).minContainers).toBe(3);
    const unbounded = config({ minContainers: 5, maxContainers: null }, { minContainers: "schedule", maxContainers: "override" });
    expect(effectiveSettings(unbounded)).toMatchObject({ minContainers: 5, maxContainers: null });
    expect(settingOrigins(unbounded).minContainers).toBe("schedule");
  });
});

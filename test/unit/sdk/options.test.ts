import { describe, it, expect } from "vitest";
import { resolveOptions, checkAutoscalerUpdate, applyAutoscalerUpdate, checkName, OptionsError } from "../../../sdk/src/wire/options";

describe("function options", () => {
  it("fills in the documented defaults", () => {
    const o = resolveOptions("f", {});
    expect(o).toMatchObject({
      minContainers: 0,
      maxContainers: null,
      bufferContainers: 0,
      scaledownWindowMs: 60_000,
      maxInputs: 1,
      targetInputs: 1,
      timeoutMs: 300_000,
      startupTimeoutMs: 120_000,
      schedule: null,
      scalingSchedule: [],
    });
    expect(o.retries.maxRetries).toBe(0);
  });

  it("defaults targetInputs to maxInputs", () => {
    expect(resolveOptions("f", { concurrent: { maxInputs: 120 } })).toMatchObject({ maxInputs: 120, targetInputs: 120 });
  });

  it("takes retries as a number or a policy", () => {
    expect(resolveOptions("f", { retries: 3 }).retries).toEqual({ maxRetries: 3, backoffCoefficient: 2, initialDelayMs: 1_000, maxDelayMs: 60_000 });
    expect(resolveOptions("f", { retries: { maxRetries: 2, initialDelayMs: 10 } }).retries.initialDelayMs).toBe(10);
  });

  it.each([
    [{ minContainers: 3, maxContainers: 1 }, /"minContainers" \(3\) must not exceed "maxContainers" \(1\)/],
    [{ maxContainers: 0 }, /"maxContainers" must be between 1/],
    [{ minContainers: 1.5 }, /"minContainers" must be a whole number/],
    [{ timeoutMs: "5s" }, /"timeoutMs" must be a whole number/],
    [{ startupTimeoutMs: 500 }, /"startupTimeoutMs" must be between 1000 and 3600000/],
    [{ retries: { maxRetries: 2, jitter: true } }, /unknown option "retries.jitter"/],
    [
      { scalingSchedule: [{ cron: "0 6 * * *", set: { minContainers: 9 } }], maxContainers: 2 },
      /scalingSchedule\[0\]\.set.*"minContainers" \(9\) must not exceed/,
    ],
    [{ scalingSchedule: [{ cron: "0 6 * *", set: { minContainers: 1 } }] }, /must have 5 fields/],
    [{ schedule: { type: "period", seconds: 0 } }, /schedule \(Period\)" must be between 60/],
    [{ minContainer: 1 }, /unknown option "minContainer" \(did you mean "minContainers"\?\)/],
  ])("refuses %j naming the option", (options, message) => {
    expect(() => resolveOptions("evaluateModel", options)).toThrow(OptionsError);
    expect(() => resolveOptions("evaluateModel", options)).toThrow(message);
    expect(() => resolveOptions("evaluateModel", options)).toThrow(/function "evaluateModel"/);
  });

  it("checks names: letters, digits, - and _, at most 64", () => {
    expect(checkName("app", "my-app_2")).toBe("my-app_2");
    expect(() => checkName("app", "a".repeat(65))).toThrow(/invalid/);
    expect(() => checkName("app", "über")).toThrow(/invalid/);
    expect(() => checkName("app", "-x")).toThrow(/invalid/);
  });
});

describe("autoscaler updates", () => {
  it("merges field by field", () => {
    const base = { minContainers: 0, maxContainers: 10, bufferContainers: 0, scaledownWindowMs: 60_000 };
    const next = applyAutoscalerUpdate("f", base, checkAutoscalerUpdate("f", { minContainers: 4 }));
    expect(next).toEqual({ ...base, minContainers: 4 });
  });

  it("refuses unknown fields and inconsistent results", () => {
    expect(() => checkAutoscalerUpdate("f", { concurrent: 1 })).toThrow(/unknown setting "concurrent"/);
    const base = { minContainers: 0, maxContainers: 2, bufferContainers: 0, scaledownWindowMs: 60_000 };
    expect(() => applyAutoscalerUpdate("f", base, { minContainers: 3 })).toThrow(/must not exceed/);
  });
});

describe('scaledownWindowMs "auto"', () => {
  it("is accepted by app.function options, updateAutoscaler and scalingSchedule entries", () => {
    expect(resolveOptions("f", { scaledownWindowMs: "auto" }).scaledownWindowMs).toBe("auto");
    expect(checkAutoscalerUpdate("updateAutoscaler on f", { scaledownWindowMs: "auto" })).toEqual({ scaledownWindowMs: "auto" });
    const o = resolveOptions("f", { scaledownWindowMs: 5_000, scalingSchedule: [{ cron: "0 6 * * *", set: { scaledownWindowMs: "auto" } }] });
    expect(o.scalingSchedule[0]!.set).toEqual({ scaledownWindowMs: "auto" });
    const base = { minContainers: 0, maxContainers: null, bufferContainers: 0, scaledownWindowMs: 60_000 };
    expect(applyAutoscalerUpdate("f", base, { scaledownWindowMs: "auto" }).scaledownWindowMs).toBe("auto");
  });

  it.each([["Auto"], ["60s"], [""], [null], [true], [{ auto: true }]])("refuses %j with an error that names both forms", (value) => {
    const message = /option "scaledownWindowMs" must be a whole number of milliseconds or "auto", got /;
    expect(() => resolveOptions("f", { scaledownWindowMs: value })).toThrow(message);
    expect(() => checkAutoscalerUpdate("updateAutoscaler on f", { scaledownWindowMs: value })).toThrow(message);
    expect(() => resolveOptions("f", { scalingSchedule: [{ cron: "0 6 * * *", set: { scaledownWindowMs: value } }] })).toThrow(
      /scalingSchedule\[0\]\.set.*scaledownWindowMs/,
    );
  });

  it("still bounds a number", () => {
    expect(() => resolveOptions("f", { scaledownWindowMs: 1_000 })).toThrow(/"scaledownWindowMs" must be between 2000 and 3600000/);
    expect(() => checkAutoscalerUpdate("f", { scaledownWindowMs: 2.5e3 + 0.5 })).toThrow(/must be a whole number/);
  });
});

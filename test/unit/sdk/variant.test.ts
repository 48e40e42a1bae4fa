// Variants (withOptions / withConcurrency): merging, the canonical string, and validation as `app.function` does it.
import { describe, it, expect } from "vitest";
import { OptionsError, resolveOptions } from "../../../sdk/src/wire/options";
import { overlayVariant, parseVariant, variantKey, variantLabel, withVariantConcurrency, withVariantOptions } from "../../../sdk/src/wire/variant";

describe("variant options", () => {
  it("merges withOptions and withConcurrency in any order into one canonical string", () => {
    const a = withVariantConcurrency("f", withVariantOptions("f", {}, { maxContainers: 2 }), { maxInputs: 4 });
    const b = withVariantOptions("f", withVariantConcurrency("f", {}, { maxInputs: 4 }), { maxContainers: 2 });
    expect(variantKey(a)).toBe("maxContainers=2,maxInputs=4");
    expect(variantKey(b)).toBe(variantKey(a));
    expect(variantKey({})).toBe("");
  });

  it("lets a later option replace an earlier one, and withConcurrency replace the concurrency as a whole", () => {
    let v = withVariantOptions("f", {}, { maxContainers: 2, timeoutMs: 5_000 });
    v = withVariantOptions("f", v, { maxContainers: 5 });
    v = withVariantConcurrency("f", v, { maxInputs: 8, targetInputs: 6 });
    v = withVariantConcurrency("f", v, { maxInputs: 3 });
    expect(variantKey(v)).toBe("maxContainers=5,timeoutMs=5000,maxInputs=3");
  });

  it("reads its canonical string back to the same variant, whatever the key order", () => {
    const v = withVariantOptions("f", {}, { scaledownWindowMs: "auto", retries: { maxRetries: 2, initialDelayMs: 500 }, minContainers: 1 });
    const key = variantKey(v);
    expect(key).toBe("minContainers=1,scaledownWindowMs=auto,retries.maxRetries=2,retries.initialDelayMs=500");
    expect(variantKey(parseVariant("f", key))).toBe(key);
    expect(variantKey(parseVariant("f", "maxInputs=4,maxContainers=2"))).toBe("maxContainers=2,maxInputs=4");
    expect(variantKey(parseVariant("f", "retries=3"))).toBe("retries=3");
  });

  it("refuses what app.function refuses, naming the option", () => {
    expect(() => withVariantOptions("f", {}, { maxContainers: 0 })).toThrow(/function "f": option "maxContainers" must be between 1 and 1000, got 0/);
    expect(() => withVariantOptions("f", {}, { timeoutMs: 1.5 })).toThrow(/option "timeoutMs" must be a whole number, got 1.5/);
    expect(() => withVariantOptions("f", {}, { minContainers: 3, maxContainers: 2 })).toThrow(/"minContainers" \(3\) must not exceed "maxContainers" \(2\)/);
    expect(() => withVariantConcurrency("f", {}, { maxInputs: 2, targetInputs: 3 })).toThrow(OptionsError);
    expect(() => withVariantOptions("f", {}, { schedule: 1 } as never)).toThrow(/withOptions has no option "schedule"/);
    expect(() => parseVariant("f", "maxContainers=abc")).toThrow(/option "maxContainers" must be a whole number, got "abc"/);
    expect(() => parseVariant("f", "bogus=1")).toThrow(/expected option=value pairs/);
    expect(() => parseVariant("f", "maxContainers")).toThrow(/expected option=value pairs/);
    expect(() => parseVariant("f", "x".repeat(500))).toThrow(/longer than/);
  });

  it("overlays the declared options, replacing only what the variant sets", () => {
    const declared = { maxContainers: 3, concurrent: { maxInputs: 10, targetInputs: 8 }, timeoutMs: 60_000 };
    const resolved = resolveOptions("f", overlayVariant(declared, parseVariant("f", "maxInputs=2,minContainers=1")));
    expect(resolved).toMatchObject({ maxContainers: 3, minContainers: 1, maxInputs: 2, targetInputs: 2, timeoutMs: 60_000 });
    expect(() => resolveOptions("f", overlayVariant(declared, parseVariant("f", "minContainers=5")))).toThrow(/"minContainers" \(5\) must not exceed/);
  });

  it("labels a variant after its function", () => {
    expect(variantLabel("work", "maxContainers=2,maxInputs=4")).toBe("work [maxContainers=2, maxInputs=4]");
    expect(variantLabel("work", "")).toBe("work");
  });
});

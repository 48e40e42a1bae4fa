// Function variants (`fn.withOptions(...)`, `fn.withConcurrency(...)`, README
// "Variants: withOptions and withConcurrency"): a function with some options
// replaced, served by a pool of its own. A variant travels, and names its
// pool, as one canonical string of `key=value` pairs, e.g.
// `maxContainers=2,maxInputs=4`: the same options always give the same
// string, whatever order they were given in. Pure: shared by the SDK (checks
// before anything is sent) and the Worker (the authority).
import { OptionsError, resolveOptions, type ConcurrencyOptions, type FunctionOptionsWire, type RetryPolicy, type ScaledownWindow } from "./options.js";

/** What `withOptions` may replace: the options of `app.function` that belong to one pool. */
export interface VariantOptions {
  maxContainers?: number;
  minContainers?: number;
  bufferContainers?: number;
  scaledownWindowMs?: ScaledownWindow;
  timeoutMs?: number;
  retries?: number | RetryPolicy;
}

/** Every option a variant replaces: `withOptions`' and `withConcurrency`'s, merged. */
export interface Variant extends VariantOptions {
  concurrent?: ConcurrencyOptions;
}

const WITH_OPTIONS_KEYS = ["maxContainers", "minContainers", "bufferContainers", "scaledownWindowMs", "timeoutMs", "retries"] as const;
const RETRY_KEYS = ["maxRetries", "backoffCoefficient", "initialDelayMs", "maxDelayMs"] as const;
/** The canonical order of the keys in a variant's string. */
const CANONICAL_KEYS = [
  "maxContainers",
  "minContainers",
  "bufferContainers",
  "scaledownWindowMs",
  "timeoutMs",
  "retries",
  ...RETRY_KEYS.map((k) => `retries.${k}`),
  "maxInputs",
  "targetInputs",
];
/** Longer than any canonical variant, so a request cannot make the platform parse a huge string. */
export const MAX_VARIANT_LENGTH = 400;

/**
 * Merges `withOptions` settings over a variant: each option given replaces
 * the one before. Throws OptionsError naming an unknown option or a value out
 * of range, exactly as `app.function` does.
 */
export function withVariantOptions(functionName: string, base: Variant, options: VariantOptions): Variant {
  const o = asRecord(functionName, "withOptions", options);
  const allowed = new Set<string>(WITH_OPTIONS_KEYS);
  for (const key of Object.keys(o)) {
    if (!allowed.has(key)) {
      const hint = key === "concurrent" || key === "maxInputs" || key === "targetInputs" ? " (set concurrency with withConcurrency)" : "";
      throw new OptionsError(`function "${functionName}": withOptions has no option "${key}"${hint}; it takes ${WITH_OPTIONS_KEYS.join(", ")}`);
    }
  }
  const merged: Variant = { ...base };
  for (const key of WITH_OPTIONS_KEYS) if (o[key] !== undefined) (merged as Record<string, unknown>)[key] = o[key];
  checkVariant(functionName, merged);
  return merged;
}

/** Merges `withConcurrency` settings over a variant: they replace its concurrency as a whole. */
export function withVariantConcurrency(functionName: string, base: Variant, concurrency: ConcurrencyOptions): Variant {
  const c = asRecord(functionName, "withConcurrency", concurrency);
  const merged: Variant = { ...base, concurrent: c as unknown as ConcurrencyOptions };
  checkVariant(functionName, merged);
  return merged;
}

/** Checks a variant as `app.function` checks its options (units, ranges, minContainers ≤ maxContainers). */
export function checkVariant(functionName: string, variant: Variant): void {
  resolveOptions(functionName, variant);
}

/** The variant's canonical string ("" for no options: the function's own pool). */
export function variantKey(variant: Variant): string {
  const pairs = new Map<string, string>();
  for (const key of WITH_OPTIONS_KEYS) {
    const v = variant[key];
    if (v === undefined) continue;
    if (key === "retries" && typeof v === "object") {
      for (const k of RETRY_KEYS) if (v[k] !== undefined) pairs.set(`retries.${k}`, String(v[k]));
    } else {
      pairs.set(key, String(v));
    }
  }
  if (variant.concurrent) {
    pairs.set("maxInputs", String(variant.concurrent.maxInputs));
    if (variant.concurrent.targetInputs !== undefined) pairs.set("targetInputs", String(variant.concurrent.targetInputs));
  }
  return CANONICAL_KEYS.filter((k) => pairs.has(k))
    .map((k) => `${k}=${pairs.get(k)!}`)
    .join(",");
}

/**
 * Reads a variant's string back (in any key order) and checks it as
 * `app.function` would. Throws OptionsError naming what is wrong.
 */
export function parseVariant(functionName: string, key: string): Variant {
  if (key.length > MAX_VARIANT_LENGTH) throw new OptionsError(`function "${functionName}": variant is longer than ${MAX_VARIANT_LENGTH} characters`);
  const variant: Variant = {};
  const retries: Partial<RetryPolicy> = {};
  let concurrent: Partial<ConcurrencyOptions> | undefined;
  const known = new Set(CANONICAL_KEYS);
  for (const pair of key === "" ? [] : key.split(",")) {
    const eq = pair.indexOf("=");
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (eq < 0 || !known.has(name)) {
      throw new OptionsError(
        `function "${functionName}": variant ${JSON.stringify(key)}: expected option=value pairs of ${CANONICAL_KEYS.join(", ")}, got ${JSON.stringify(pair)}`,
      );
    }
    const text = pair.slice(eq + 1);
    // Numbers as numbers; anything else stays text, so the range check quotes it back.
    const value: number | string = text.trim() === "" || Number.isNaN(Number(text)) ? text : Number(text);
    if (name.startsWith("retries.")) (retries as Record<string, unknown>)[name.slice("retries.".length)] = value;
    else if (name === "maxInputs" || name === "targetInputs") (concurrent ??= {})[name] = value as number;
    else (variant as Record<string, unknown>)[name] = value;
  }
  if (Object.keys(retries).length > 0) {
    if (variant.retries !== undefined) throw new OptionsError(`function "${functionName}": variant sets both "retries" and "retries.*"`);
    variant.retries = retries as RetryPolicy;
  }
  if (concurrent) variant.concurrent = concurrent as ConcurrencyOptions;
  checkVariant(functionName, variant);
  return variant;
}

/** The declared options with a variant's replacing theirs: what the variant's pool runs with. */
export function overlayVariant(declared: FunctionOptionsWire, variant: Variant): FunctionOptionsWire {
  const out: FunctionOptionsWire = { ...declared };
  for (const [key, value] of Object.entries(variant)) if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  return out;
}

/** How a variant reads in stats, the CLI and the dashboard: `fn [maxContainers=2, maxInputs=4]`. */
export function variantLabel(functionName: string, key: string): string {
  return key === "" ? functionName : `${functionName} [${key.split(",").join(", ")}]`;
}

function asRecord(functionName: string, what: string, v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new OptionsError(`function "${functionName}": ${what} takes an object of options`);
  return v as Record<string, unknown>;
}

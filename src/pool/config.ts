// What a pool runs and how it scales: resolved by the Worker from D1 and
// handed to the pool with every call (docs/architecture.md "The FunctionPool Durable Object").
import type { ResolvedOptions, AutoscalerUpdate, AutoscalerSettings } from "../../sdk/src/wire/options";
import type { InputItem, OutputItem } from "../../sdk/src/wire/api";

export interface PoolConfig {
  /** Grows with every deploy and override; a pool ignores a config older than its own. */
  version: number;
  workspaceId: string;
  appName: string;
  functionId: string;
  functionName: string;
  kind: "function" | "class";
  /** CBOR of the constructor params, base64url (class instances only). */
  params: string | null;
  deploymentId: string;
  /** Declared options with defaults. */
  options: ResolvedOptions;
  /** `updateAutoscaler` overrides and scaling-schedule entries, merged. */
  overrides: AutoscalerUpdate;
  /** Which of the two set each overridden field. */
  overrideSources: Partial<Record<keyof AutoscalerSettings, "override" | "schedule">>;
  /** Where containers reach the Worker. */
  publicUrl: string;
}

/**
 * The settings in effect: the declared options, then the overrides and
 * scaling-schedule entries (merged field by field, the latest write of a field
 * winning). Layers written at different times can disagree (an override sets
 * maxContainers 1, a schedule entry later sets minContainers 2); then
 * maxContainers, the ceiling, wins and minContainers is held at it. So this
 * never fails: a pool always has settings to serve with.
 */
export function effectiveSettings(config: PoolConfig): AutoscalerSettings {
  const merged = layered(config);
  return minClamped(merged) ? { ...merged, minContainers: merged.maxContainers! } : merged;
}

function layered(config: PoolConfig): AutoscalerSettings {
  const out: AutoscalerSettings = {
    minContainers: config.options.minContainers,
    maxContainers: config.options.maxContainers,
    bufferContainers: config.options.bufferContainers,
    scaledownWindowMs: config.options.scaledownWindowMs,
  };
  for (const key of Object.keys(config.overrides) as Array<keyof AutoscalerSettings>) {
    const v = config.overrides[key];
    if (v !== undefined) (out as unknown as Record<string, unknown>)[key] = v;
  }
  return out;
}

const minClamped = (s: AutoscalerSettings): boolean => s.maxContainers !== null && s.minContainers > s.maxContainers;

/** `clamped`: the minContainers a layer set is above maxContainers, so it is held at maxContainers. */
export type SettingOrigin = "declared" | "override" | "schedule" | "clamped";

/** Where each effective setting comes from: the declared options, an override, a scaling schedule, or the min-to-max clamp. */
export function settingOrigins(config: PoolConfig): Record<keyof AutoscalerSettings, SettingOrigin> {
  const origin = (key: keyof AutoscalerSettings): SettingOrigin =>
    config.overrides[key] === undefined ? "declared" : (config.overrideSources[key] ?? "override");
  return {
    minContainers: minClamped(layered(config)) ? "clamped" : origin("minContainers"),
    maxContainers: origin("maxContainers"),
    bufferContainers: origin("bufferContainers"),
    scaledownWindowMs: origin("scaledownWindowMs"),
  };
}

/** The pool's answer when it refuses: mapped 1:1 onto the API's error shape. */
export interface PoolError {
  code: "NOT_FOUND" | "INVALID_ARGUMENT" | "RESOURCE_EXHAUSTED" | "CONFLICT";
  message: string;
  retryAfterMs?: number;
}

export type PoolResult<T> = { ok: true; value: T } | { ok: false; error: PoolError };

export const ok = <T>(value: T): PoolResult<T> => ({ ok: true, value });
export const fail = <T = never>(error: PoolError): PoolResult<T> => ({ ok: false, error });

// ---- the pool's call RPCs: arguments and results ----

export interface CallOutputs {
  outputs: OutputItem[];
  cursor: number;
  done: boolean;
}

export interface CreateCallArgs {
  kind: "remote" | "map";
  method: string | null;
  inputs: InputItem[];
  closed: boolean;
  waitMs: number;
  /** The client's id for this request: sent again, it answers with the call the first one started. */
  requestId: string | null;
}

export interface SpawnDelivery {
  callId: string;
  args: Uint8Array;
  method: string | null;
}

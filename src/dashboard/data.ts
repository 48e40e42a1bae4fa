// What the dashboard shows, read from D1 (which pools an app has) and from
// each pool's `overview` (stats, the last hour of metrics, recent inputs).
import { base64urlToBytes } from "../../sdk/src/wire/base64url";
import type { Env } from "../env";
import type { FunctionStats } from "../../sdk/src/wire/api";
import { decode, type SerializedError } from "../../sdk/src/wire/serialization";
import type { HistoryRow, MetricPoint } from "../pool/store-schema";
import type { RecentCall } from "./recent-call";

export type { RecentCall };
import { classInstancesOf, findApp, functionsOfApp, type AppRow, type Db, type FunctionRow } from "../db/queries";
import { poolStub, recordedInstance } from "../control/pools";

/** One pool on the page: a function's, one class instance's, or a variant's. */
export interface PoolRef {
  /** Names the pool on the page and in the data: the function id, plus `.instanceKey` for a class instance or a variant. */
  key: string;
  functionId: string;
  instanceKey: string;
  /** A class instance's constructor params: base64url of their CBOR (what the API takes) and as text. */
  params: string | null;
  paramsText: string | null;
  /** A variant's canonical options; "" for none. */
  variant: string;
}

export interface FunctionEntry {
  fn: FunctionRow;
  /** A function's one pool, or the class instances called so far (newest first, at most MAX_INSTANCES_SHOWN). */
  pools: PoolRef[];
  /** For classes: how many instances exist in all. */
  instanceCount: number;
}

export interface AppContents {
  app: AppRow;
  functions: FunctionEntry[];
}

/** Keeps a page (and its polling fan-out) bounded when a class has many instances. */
const MAX_INSTANCES_SHOWN = 20;
/** Inputs per second are averaged over this window. */
const RATE_WINDOW_MS = 10_000;
const HOUR_MS = 60 * 60 * 1_000;
const RECENT_CALLS_SHOWN = 10;
const PARAMS_TEXT_MAX = 200;

/** The app's live functions and their pools, or null if the workspace has no such app. */
export async function appContents(d: Db, workspaceId: string, appName: string): Promise<AppContents | null> {
  const app = await findApp(d, workspaceId, appName);
  if (!app) return null;
  const fns = (await functionsOfApp(d, app.id)).filter((f) => f.live).sort((a, b) => a.name.localeCompare(b.name));
  const instances = await classInstancesOf(
    d,
    fns.map((f) => f.id),
  );
  const functions = fns.map((fn): FunctionEntry => {
    const own = instances.filter((i) => i.functionId === fn.id).sort((a, b) => b.createdAt - a.createdAt);
    const pools = own.slice(0, MAX_INSTANCES_SHOWN).map((i) => {
      const { params, variant } = recordedInstance(i);
      return { key: `${fn.id}.${i.instanceKey}`, functionId: fn.id, instanceKey: i.instanceKey, params, paramsText: params && describeParams(params), variant };
    });
    if (fn.kind === "function") {
      // A function's own pool first, then its variants'.
      const self: PoolRef = { key: fn.id, functionId: fn.id, instanceKey: "", params: null, paramsText: null, variant: "" };
      return { fn, pools: [self, ...pools], instanceCount: 0 };
    }
    return { fn, pools, instanceCount: own.length };
  });
  return { app, functions };
}

export interface PoolOverview {
  key: string;
  /** Null until the pool has been configured (it has never been deployed to or called). */
  stats: FunctionStats | null;
  inputsPerSecond: number;
  completedLastHour: number;
  failedLastHour: number;
  /** Metric points at or after the `since` asked for (the page keeps the rest). */
  metrics: MetricPoint[];
  recent: RecentCall[];
}

/** One pool's overview for the page; `sinceMs` trims the metrics sent to what the page lacks. */
export async function poolOverview(env: Env, workspaceId: string, ref: PoolRef, sinceMs: number, now: number): Promise<PoolOverview> {
  const result = await poolStub(env, ref.functionId, ref.instanceKey).overview(workspaceId, now - HOUR_MS);
  if (!result.ok) return { key: ref.key, stats: null, inputsPerSecond: 0, completedLastHour: 0, failedLastHour: 0, metrics: [], recent: [] };
  const { stats, metrics, recent } = result.value;
  let completed = 0;
  let failed = 0;
  let recentlyCompleted = 0;
  for (const p of metrics) {
    completed += p.completed;
    failed += p.failed;
    if (p.ts > now - RATE_WINDOW_MS) recentlyCompleted += p.completed;
  }
  return {
    key: ref.key,
    stats,
    inputsPerSecond: recentlyCompleted / (RATE_WINDOW_MS / 1_000),
    completedLastHour: completed,
    failedLastHour: failed,
    metrics: metrics.filter((p) => p.ts >= sinceMs),
    recent: recent.slice(0, RECENT_CALLS_SHOWN).map(recentCall),
  };
}

function recentCall(row: HistoryRow): RecentCall {
  return {
    callId: row.callId,
    idx: row.idx,
    status: row.status,
    containerId: row.containerId,
    finishedAt: row.finishedAt,
    durationMs: row.startedAt === null ? null : row.finishedAt - row.startedAt,
    error: row.error ? errorSummary(row.error) : null,
  };
}

function errorSummary(bytes: Uint8Array): { name: string; message: string } {
  try {
    const e = decode<SerializedError>(bytes);
    return { name: String(e.name), message: String(e.message) };
  } catch {
    return { name: "Error", message: "(the error could not be decoded)" };
  }
}

/** Class params as readable text: they are the user's own values, shown (escaped) to tell instances apart. */
function describeParams(paramsB64: string): string {
  let text: string;
  try {
    const value = decode(base64urlToBytes(paramsB64));
    text =
      JSON.stringify(value, (_key, v: unknown) => {
        if (typeof v === "bigint") return `${v}n`;
        if (v instanceof Map) return Object.fromEntries(v);
        if (v instanceof Set) return [...v];
        if (v instanceof Uint8Array) return `<${v.byteLength} bytes>`;
        return v;
      }) ?? "undefined";
  } catch {
    text = paramsB64;
  }
  return text.length > PARAMS_TEXT_MAX ? `${text.slice(0, PARAMS_TEXT_MAX - 1)}…` : text;
}

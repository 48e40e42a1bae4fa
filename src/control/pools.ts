// Finding the FunctionPool that serves a function, a class instance or a call,
// from plain values: what the API, the schedules and the dashboard all need.
//
//   resolvePool     a caller's function id (+ class params) → its pool, config and stub (access checked, cached 2 s)
//   currentPool     a function row already in hand → its pool with the overrides stored now (no cache, no access check)
//   poolStub        a function id + instance key → the pool's stub, nothing read
//   poolStubOfCall  a call id → the stub of the pool holding the call
//   poolsOf         functions → every pool they have (a function's own, a class's called instances)
import type { Env } from "../env";
import type { PoolConfig } from "../pool/config";
import type { FunctionPool } from "../pool/function-pool";
import { OptionsError, resolveOptions } from "../../sdk/src/wire/options";
import { overlayVariant, parseVariant, variantKey } from "../../sdk/src/wire/variant";
import { db, findFunctionById, overridesFor, recordClassInstance, classInstancesOf } from "../db/queries";
import type { ClassInstanceRow, Db, FunctionRow, Overrides, ResolvedFunction } from "../db/queries";
import { ApiError, invalid, notFound } from "./errors";
import { sha256Hex } from "../auth/crypto";
import { CALL_ID_SHAPE, poolIdOfCall } from "../pool/call-id";

export interface ResolvedPool {
  resolved: ResolvedFunction;
  config: PoolConfig;
  stub: DurableObjectStub<FunctionPool>;
  /** The pool's Durable Object id (hex). */
  poolId: string;
  instanceKey: string;
  /** The variant's canonical options; "" for none. */
  variant: string;
}

/** A function (or one instance of a class) as a caller names it. */
export interface PoolRequest {
  workspaceId: string;
  functionId: string;
  /** A class instance's constructor params (base64url of their CBOR, canonical spelling); null for a function. */
  params: string | null;
  /** Where containers reach the API (the config carries it). */
  publicUrl: string;
  /** A variant's options as the caller sent them (wire/variant.ts); null or "" for the function's own pool. */
  variant?: string | null;
}

/**
 * One pool of a function: its own (no params, instance key ""), one class
 * instance's (key: the params' hash), or a variant's (key: `~<variant>`,
 * after the params' hash for a class instance).
 */
export interface PoolInstance {
  params: string | null;
  instanceKey: string;
  /** The variant's canonical options; "" for none. */
  variant: string;
}

const FUNCTION_POOL: PoolInstance = { params: null, instanceKey: "", variant: "" };

/** A variant's pool is named by its canonical options after `~`, which no params hash contains. */
const VARIANT_MARK = "~";

export function instanceKeyWithVariant(paramsKey: string, variant: string): string {
  return variant ? `${paramsKey}${VARIANT_MARK}${variant}` : paramsKey;
}

/** The variant of a pool's instance key ("" for none). */
export function variantOfInstanceKey(instanceKey: string): string {
  const at = instanceKey.indexOf(VARIANT_MARK);
  return at < 0 ? "" : instanceKey.slice(at + 1);
}

/** A recorded pool (class_instances row: a class instance or a variant) as a PoolInstance. */
export function recordedInstance(row: Pick<ClassInstanceRow, "instanceKey" | "params">): PoolInstance {
  return { params: row.params === "" ? null : row.params, instanceKey: row.instanceKey, variant: variantOfInstanceKey(row.instanceKey) };
}

/** Class-instance params travel as base64url of their CBOR; their hash names the instance's pool. */
export async function instanceKeyOf(paramsB64: string): Promise<string> {
  return (await sha256Hex(paramsB64)).slice(0, 32);
}

function poolObjectId(env: Env, functionId: string, instanceKey: string): DurableObjectId {
  return env.POOL.idFromName(instanceKey ? `${functionId}/${instanceKey}` : functionId);
}

export function poolStub(env: Env, functionId: string, instanceKey: string): DurableObjectStub<FunctionPool> {
  return env.POOL.get(poolObjectId(env, functionId, instanceKey));
}

/**
 * A pool's config: the deployment and its declared options (with a
 * variant's replacing theirs), and the overrides. Throws OptionsError when
 * a variant does not hold with the declared options (minContainers above
 * the declared maxContainers).
 */
export function buildConfig(r: ResolvedFunction, overrides: Overrides, params: string | null, url: string, variant = ""): PoolConfig {
  const declared = variant ? overlayVariant(r.fn.options, parseVariant(r.fn.name, variant)) : r.fn.options;
  return {
    version: r.fn.configVersion,
    workspaceId: r.app.workspaceId,
    appName: r.app.name,
    functionId: r.fn.id,
    functionName: r.fn.name,
    kind: r.fn.kind,
    params,
    deploymentId: r.fn.deploymentId,
    options: resolveOptions(r.fn.name, declared),
    overrides: overrides.settings,
    overrideSources: overrides.sources,
    publicUrl: url,
  };
}

/**
 * Resolves the pool for a function (or one class instance, when `params`
 * is given). Unknown, removed and other workspaces' functions are 404;
 * a stopped app is 404 too, until it is deployed again.
 */
export async function resolvePool(env: Env, request: PoolRequest): Promise<ResolvedPool> {
  const key = `${request.workspaceId}/${request.functionId}/${request.params ?? ""}/${request.variant ?? ""}/${request.publicUrl}`;
  const now = Date.now();
  let hit = resolveCache.get(key);
  if (!hit || hit.expiresAtMs <= now) {
    const { resolved, overrides, instanceKey, variant } = await resolveFromD1(env, request);
    hit = { ...poolTarget(env, resolved, overrides, { params: request.params, instanceKey, variant }, request.publicUrl), expiresAtMs: now + RESOLVE_CACHE_MS };
    if (resolveCache.size > 10_000) resolveCache.clear();
    resolveCache.set(key, hit);
  }
  return withStub(env, hit);
}

type CachedResolution = PoolTarget & { expiresAtMs: number };

/**
 * What D1 says about a function is cached per isolate for a moment, so a
 * map or a burst of remote calls does not read D1 on every request. A pool
 * ignores configs older than its own, so a stale entry never undoes a newer
 * deploy or override.
 */
const RESOLVE_CACHE_MS = 2_000;
const resolveCache = new Map<string, CachedResolution>();

/** Forgets cached resolutions after this isolate changed what they come from (deploy, override, stop). */
export function forgetResolvedPools(): void {
  resolveCache.clear();
}

async function resolveFromD1(
  env: Env,
  { workspaceId, functionId, params, variant: sent }: PoolRequest,
): Promise<{ resolved: ResolvedFunction; overrides: Overrides; instanceKey: string; variant: string }> {
  const d = db(env.DB);
  const resolved = await findFunctionById(d, workspaceId, functionId);
  if (!resolved || !resolved.fn.live) throw notFound(`function ${functionId} not found`);
  if (resolved.app.state === "stopped") throw notFound(`app ${resolved.app.name} is stopped; deploy it again to call its functions`);
  if (resolved.fn.kind === "class" && params === null) {
    throw invalid(`${resolved.fn.name} is a class: call a method of an instance (params are required)`);
  }
  if (resolved.fn.kind === "function" && params !== null) throw invalid(`${resolved.fn.name} is a function, not a class: it takes no params`);
  const variant = sent ? checkedVariant(resolved, sent) : "";
  const instanceKey = instanceKeyWithVariant(params === null ? "" : await instanceKeyOf(params), variant);
  // Recorded so a redeploy, a stop, stats and the dashboard find the pool (once per cache miss: off the per-call path).
  if (instanceKey !== "") await recordClassInstance(d, functionId, instanceKey, params ?? "");
  return { resolved, overrides: await overridesFor(d, functionId, instanceKey), instanceKey, variant };
}

/** A variant as sent, checked as `app.function` checks options and against the declared ones; its canonical string. */
function checkedVariant(resolved: ResolvedFunction, sent: string): string {
  try {
    const variant = parseVariant(resolved.fn.name, sent);
    resolveOptions(resolved.fn.name, overlayVariant(resolved.fn.options, variant));
    return variantKey(variant);
  } catch (err) {
    if (err instanceof OptionsError) throw invalid(err.message);
    throw err;
  }
}

/** A resolved pool but for its stub: what a cache may keep (a stub belongs to the request that made it). */
interface PoolTarget extends Omit<ResolvedPool, "stub"> {
  id: DurableObjectId;
}

function poolTarget(env: Env, resolved: ResolvedFunction, overrides: Overrides, instance: PoolInstance, url: string): PoolTarget {
  const config = buildConfig(resolved, overrides, instance.params, url, instance.variant);
  const id = poolObjectId(env, resolved.fn.id, instance.instanceKey);
  return { resolved, config, id, poolId: id.toString(), instanceKey: instance.instanceKey, variant: instance.variant };
}

function withStub(env: Env, { resolved, config, id, poolId, instanceKey, variant }: PoolTarget): ResolvedPool {
  return { resolved, config, stub: env.POOL.get(id), poolId, instanceKey, variant };
}

/** A pool of a function row already in hand (a deploy's, a schedule's), configured with the overrides stored now. */
export async function currentPool(env: Env, d: Db, resolved: ResolvedFunction, url: string, instance = FUNCTION_POOL): Promise<ResolvedPool> {
  return withStub(env, poolTarget(env, resolved, await overridesFor(d, resolved.fn.id, instance.instanceKey), instance, url));
}

/**
 * Hands fresh settings to every pool of a function: its own and its
 * variants', or each called instance of a class. A variant whose options no
 * longer hold with the newly declared ones is stopped; its next call gets
 * the 400 that says why.
 */
export async function reconfigurePools(env: Env, d: Db, resolved: ResolvedFunction, url: string): Promise<void> {
  const recorded = (await classInstancesOf(d, [resolved.fn.id])).map(recordedInstance);
  const targets: PoolInstance[] = resolved.fn.kind === "function" ? [FUNCTION_POOL, ...recorded] : recorded;
  await Promise.all(
    targets.map(async (t) => {
      let pool: ResolvedPool;
      try {
        pool = await currentPool(env, d, resolved, url, t);
      } catch (err) {
        if (!(err instanceof OptionsError)) throw err;
        await poolStub(env, resolved.fn.id, t.instanceKey).stopAll(`variant of ${resolved.fn.name} no longer valid: ${err.message}`);
        return;
      }
      await pool.stub.configure(pool.config);
    }),
  );
}

/** The pools of these functions: a function's own and its variants', and a class's instances (a class has no pool of its own). */
export async function poolsOf<F extends Pick<FunctionRow, "id" | "kind">>(
  env: Env,
  d: Db,
  fns: F[],
): Promise<Array<{ fn: F; stub: DurableObjectStub<FunctionPool> }>> {
  const instances = await classInstancesOf(
    d,
    fns.map((f) => f.id),
  );
  const byId = new Map(fns.map((f) => [f.id, f]));
  return [
    ...fns.filter((f) => f.kind === "function").map((fn) => ({ fn, stub: poolStub(env, fn.id, "") })),
    ...instances.map((i) => ({ fn: byId.get(i.functionId)!, stub: poolStub(env, i.functionId, i.instanceKey) })),
  ];
}

/** What stats say about variants: a variant's pool names its variant; a function's own pool lists the variants called. */
export async function variantsOfStats(env: Env, pool: ResolvedPool): Promise<{ variant?: string; variants?: string[] }> {
  if (pool.variant) return { variant: pool.variant };
  if (pool.instanceKey !== "") return {};
  const variants = (await classInstancesOf(db(env.DB), [pool.resolved.fn.id])).map((row) => variantOfInstanceKey(row.instanceKey));
  return variants.length ? { variants: variants.sort() } : {};
}

/** The pool holding a call: 400 for a malformed id, 404 for one no pool of ours has. */
export function poolStubOfCall(env: Env, callId: string): DurableObjectStub<FunctionPool> {
  const poolId = poolIdOfCall(callId);
  if (poolId === null) throw new ApiError("INVALID_ARGUMENT", `malformed call id ${JSON.stringify(callId.slice(0, 100))}: expected ${CALL_ID_SHAPE}`);
  let id = poolIds.get(poolId);
  if (!id) {
    try {
      id = env.POOL.idFromString(poolId);
    } catch {
      throw notFound(`call ${callId} not found`);
    }
    if (poolIds.size >= MAX_CACHED_POOL_IDS) poolIds.clear();
    poolIds.set(poolId, id);
  }
  return env.POOL.get(id);
}

/**
 * Pool ids as parsed from call ids (checking an id's signature costs a hash),
 * per isolate: a map's every read names the same pool. Only ids that parsed
 * are kept, and an id never changes meaning, so nothing here goes stale.
 */
const poolIds = new Map<string, DurableObjectId>();
const MAX_CACHED_POOL_IDS = 10_000;

// From an API request to the FunctionPool that serves it: the function row
// (workspace-scoped), its effective config, and the pool's stub.
import type { Context } from "hono";
import type { AppEnv } from "./context";
import type { Env } from "../env";
import type { PoolConfig } from "../pool/config";
import type { FunctionPool } from "../pool/function-pool";
import { resolveOptions } from "../../sdk/src/wire/options";
import { db, findFunctionById, overridesFor, recordClassInstance, classInstancesOf, type Db, type Overrides, type ResolvedFunction } from "../db/queries";
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

export function publicUrl(c: Context<AppEnv>): string {
  return c.env.SQUALL_PUBLIC_URL || new URL(c.req.url).origin;
}


export function buildConfig(r: ResolvedFunction, overrides: Overrides, params: string | null, url: string): PoolConfig {
  return {
    version: r.fn.configVersion,
    workspaceId: r.app.workspaceId,
    appName: r.app.name,
    functionId: r.fn.id,
    functionName: r.fn.name,
    kind: r.fn.kind,
    params,
    deploymentId: r.fn.deploymentId,
    options: resolveOptions(r.fn.name, r.fn.options),
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
export async function resolvePool(c: Context<AppEnv>, functionId: string, params: string | null): Promise<ResolvedPool> {
  const key = `${c.get("workspaceId")}/${functionId}/${params ?? ""}`;
  const now = Date.now();
  let hit = resolveCache.get(key);
  if (!hit || hit.expiresAtMs <= now) {
    hit = { ...(await resolveFromD1(c, functionId, params)), expiresAtMs: now + RESOLVE_CACHE_MS };
    if (resolveCache.size > 10_000) resolveCache.clear();
    resolveCache.set(key, hit);
  }
  // Stubs belong to the request that made them: build one per request.
  return poolOf(c.env, hit.resolved, hit.overrides, params, hit.instanceKey, publicUrl(c));
}

interface CachedResolution {
  resolved: ResolvedFunction;
  overrides: Overrides;
  instanceKey: string;
  expiresAtMs: number;
}

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

async function resolveFromD1(c: Context<AppEnv>, functionId: string, params: string | null): Promise<Omit<CachedResolution, "expiresAtMs">> {
  const d = db(c.env.DB);
  const resolved = await findFunctionById(d, c.get("workspaceId"), functionId);
  if (!resolved || !resolved.fn.live) throw notFound(`function ${functionId} not found`);
  if (resolved.app.state === "stopped") throw notFound(`app ${resolved.app.name} is stopped; deploy it again to call its functions`);
  if (resolved.fn.kind === "class" && params === null) {
    throw invalid(`${resolved.fn.name} is a class: call a method of an instance (params are required)`);
  }
  if (resolved.fn.kind === "function" && params !== null) throw invalid(`${resolved.fn.name} is a function, not a class: it takes no params`);
  const instanceKey = params === null ? "" : await instanceKeyOf(params);
  if (params !== null) await recordClassInstance(d, functionId, instanceKey, params);
  return { resolved, overrides: await overridesFor(d, functionId, instanceKey), instanceKey };
}

function poolOf(env: Env, resolved: ResolvedFunction, overrides: Overrides, params: string | null, instanceKey: string, url: string): ResolvedPool {
  const config = buildConfig(resolved, overrides, params, url);
  const id = poolObjectId(env, resolved.fn.id, instanceKey);
  return { resolved, config, stub: env.POOL.get(id), poolId: id.toString(), instanceKey };
}

async function poolFor(env: Env, d: Db, resolved: ResolvedFunction, params: string | null, instanceKey: string, url: string): Promise<ResolvedPool> {
  return poolOf(env, resolved, await overridesFor(d, resolved.fn.id, instanceKey), params, instanceKey, url);
}

/** A function's own pool (not a class instance's), outside a request (schedules). */
export function resolvedPoolOf(env: Env, d: Db, resolved: ResolvedFunction, url: string): Promise<ResolvedPool> {
  return poolFor(env, d, resolved, null, "", url);
}

/** Hands fresh settings to every pool of a function: its own, or each called instance of a class. */
export async function reconfigurePools(env: Env, d: Db, resolved: ResolvedFunction, url: string): Promise<void> {
  const targets: Array<{ params: string | null; instanceKey: string }> =
    resolved.fn.kind === "function"
      ? [{ params: null, instanceKey: "" }]
      : (await classInstancesOf(d, [resolved.fn.id])).map((i) => ({ params: i.params, instanceKey: i.instanceKey }));
  await Promise.all(
    targets.map(async (t) => {
      const pool = await poolFor(env, d, resolved, t.params, t.instanceKey, url);
      await pool.stub.configure(pool.config);
    }),
  );
}

export function checkMethod(r: ResolvedFunction, method: string | undefined): string | null {
  if (r.fn.kind === "function") {
    if (method !== undefined) throw invalid(`${r.fn.name} is a function: it has no method ${JSON.stringify(method)}`);
    return null;
  }
  const methods = r.fn.methods as string[];
  if (method === undefined) throw invalid(`${r.fn.name} is a class: name the method to call (one of ${methods.join(", ")})`);
  if (!methods.includes(method)) throw notFound(`class ${r.fn.name} has no method ${JSON.stringify(method)} (methods: ${methods.join(", ")})`);
  return method;
}

/** The pool serving a call id: 400 for a malformed id, 404 for one no pool of ours has. */
export function poolOfCall(env: Env, callId: string): DurableObjectStub<FunctionPool> {
  const poolId = poolIdOfCall(callId);
  if (poolId === null) throw new ApiError("INVALID_ARGUMENT", `malformed call id ${JSON.stringify(callId.slice(0, 100))}: expected ${CALL_ID_SHAPE}`);
  let id: DurableObjectId;
  try {
    id = env.POOL.idFromString(poolId);
  } catch {
    throw notFound(`call ${callId} not found`);
  }
  return env.POOL.get(id);
}

// An app's lifecycle: deploy (bundle, D1 rows, schedules, every pool told),
// stop and delete. The API's app routes are this module behind HTTP.
import type { Env } from "../env";
import type { AppManifest, DeployRequest, DeployResponse, StopAppResponse } from "../../sdk/src/wire/api";
import { OptionsError, checkName, resolveOptions } from "../../sdk/src/wire/options";
import * as q from "../db/queries";
import { sha256Hex } from "../auth/crypto";
import { applyActiveScalingEntries, replaceSchedules } from "../schedule/schedules";
import { ApiError, invalid, notFound } from "./errors";
import { forgetResolvedPools, poolsOf, reconfigurePools } from "./pools";

/** A bundle larger than this is almost certainly a mistake (node_modules bundled twice, data inlined). */
const MAX_BUNDLE_BYTES = 20 * 1024 * 1024;

export interface DeployArgs {
  workspaceId: string;
  appName: string;
  request: DeployRequest;
  /** Where containers reach the API (the pools' configs carry it). */
  publicUrl: string;
}

/** Deploys an app: stores its bundle, records the deployment (clearing overrides) and configures every pool. */
export async function deployApp(env: Env, { workspaceId, appName, request, publicUrl }: DeployArgs): Promise<DeployResponse> {
  const { manifest } = request;
  if (manifest.name !== appName) throw invalid(`manifest.name ${JSON.stringify(manifest.name)} does not match the app in the path (${appName})`);
  validateManifest(manifest);
  const bundle = new TextEncoder().encode(request.bundle);
  if (bundle.byteLength > MAX_BUNDLE_BYTES) {
    throw new ApiError("PAYLOAD_TOO_LARGE", `bundle is ${bundle.byteLength} bytes; the limit is ${MAX_BUNDLE_BYTES}`);
  }
  const bundleKey = `bundles/${await sha256Hex(bundle)}.mjs`;
  await env.BUNDLES.put(bundleKey, bundle);

  const d = q.db(env.DB);
  const result = await q.recordDeployment(d, workspaceId, manifest, bundleKey, request.ephemeral ?? false);
  forgetResolvedPools();
  await configurePools(env, d, result, publicUrl);
  return {
    appName,
    deploymentId: result.deploymentId,
    version: result.version,
    functions: result.functions.map((f) => q.functionInfo(f, appName)),
  };
}

function validateManifest(manifest: AppManifest): void {
  const seen = new Set<string>();
  for (const f of manifest.functions) {
    try {
      checkName("function", f.name);
      resolveOptions(f.name, f.options);
    } catch (err) {
      if (err instanceof OptionsError) throw invalid(err.message);
      throw err;
    }
    if (seen.has(f.name)) throw invalid(`function "${f.name}" is defined twice`);
    seen.add(f.name);
    if (f.kind === "class" && !f.methods?.length) throw invalid(`class "${f.name}" has no methods to call`);
    if (f.kind === "class" && f.options.schedule !== undefined) {
      throw invalid(`class "${f.name}": option "schedule" is for functions (a schedule runs one function); use scalingSchedule on classes`);
    }
  }
}

/**
 * After a deploy: schedules replaced, the scaling entries now in force
 * applied, every pool told about the new deployment (warm pools start now),
 * and pools of removed functions stopped.
 */
async function configurePools(env: Env, d: q.Db, result: q.DeployResult, url: string): Promise<void> {
  const now = Date.now();
  await replaceSchedules(d, result.functions, now);
  await applyActiveScalingEntries(d, result.functions, now);
  const fresh = await q.functionsOfApp(d, result.app.id);
  await Promise.all([
    ...fresh.filter((f) => f.live).map((fn) => reconfigurePools(env, d, { fn, app: result.app }, url)),
    ...(await poolsOf(env, d, result.removed)).map(({ fn, stub }) => stub.stopAll(`${fn.kind} ${fn.name} was removed by a deploy`)),
  ]);
}

/** The workspace's app of this name: 404 if it has none. */
export async function ownApp(env: Env, workspaceId: string, name: string): Promise<q.AppRow> {
  const app = await q.findApp(q.db(env.DB), workspaceId, name);
  if (!app) throw notFound(`app ${name} not found`);
  return app;
}

/** Every pool of an app: its functions and the class instances that were called. */
async function poolsOfApp(env: Env, d: q.Db, app: q.AppRow) {
  return (await poolsOf(env, d, await q.functionsOfApp(d, app.id))).map((p) => p.stub);
}

/** Stops an app: its containers stop and its pending and running inputs are cancelled, until it is deployed again. */
export async function stopApp(env: Env, workspaceId: string, name: string): Promise<StopAppResponse> {
  const d = q.db(env.DB);
  const app = await ownApp(env, workspaceId, name);
  await q.setAppState(d, app.id, "stopped");
  forgetResolvedPools();
  const results = await Promise.all((await poolsOfApp(env, d, app)).map((p) => p.stopAll(`app ${name} was stopped`)));
  return {
    appName: name,
    cancelledInputs: results.reduce((n, r) => n + r.cancelledInputs, 0),
    stoppedContainers: results.reduce((n, r) => n + r.stoppedContainers, 0),
  };
}

/** Removes an app for good: its pools are destroyed and its rows deleted. */
export async function deleteApp(env: Env, workspaceId: string, name: string): Promise<void> {
  const d = q.db(env.DB);
  const app = await ownApp(env, workspaceId, name);
  await q.setAppState(d, app.id, "stopped");
  forgetResolvedPools();
  await Promise.all((await poolsOfApp(env, d, app)).map((p) => p.destroy()));
  await q.deleteApp(d, app);
}

import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../context";
import type { AppManifest, DeployResponse, ListAppsResponse, StopAppResponse } from "../../../sdk/src/wire/api";
import { OptionsError, checkName, resolveOptions } from "../../../sdk/src/wire/options";
import { json, errorResponses, Name } from "../schemas";
import { ApiError, invalid, notFound } from "../errors";
import * as q from "../../db/queries";
import { forgetResolvedPools, poolStub, publicUrl, reconfigurePools } from "../pools";
import { applyActiveScalingEntries, listSchedules, replaceSchedules } from "../../schedule/schedules";
import { sha256Hex } from "../../auth/crypto";

export const apps = new OpenAPIHono<AppEnv>();

/** A bundle larger than this is almost certainly a mistake (node_modules bundled twice, data inlined). */
const MAX_BUNDLE_BYTES = 20 * 1024 * 1024;

const AppParam = z.object({ app: Name });

const ManifestSchema = z.object({
  name: Name,
  functions: z
    .array(
      z.object({
        name: Name,
        kind: z.enum(["function", "class"]),
        options: z.record(z.string(), z.unknown()),
        methods: z.array(z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/, "must be a method name")).max(200).optional(),
      }),
    )
    .min(1, "an app needs at least one function")
    .max(500),
});

const DeployBody = z.object({
  manifest: ManifestSchema,
  bundle: z.string().min(1),
  ephemeral: z.boolean().optional(),
});

const FunctionInfoSchema = z
  .object({ functionId: z.string(), appName: z.string(), name: z.string(), kind: z.enum(["function", "class"]), methods: z.array(z.string()), options: z.record(z.string(), z.unknown()) })
  .openapi("FunctionInfo");

apps.openapi(
  createRoute({
    method: "post",
    path: "/v1/apps/{app}/deployments",
    summary: "Deploy an app: its bundle and manifest. Clears autoscaler overrides.",
    security: [{ bearer: [] }],
    request: { params: AppParam, body: { content: { "application/json": { schema: DeployBody } }, required: true } },
    responses: {
      201: json(z.object({ appName: z.string(), deploymentId: z.string(), version: z.number(), functions: z.array(FunctionInfoSchema) }), "Deployed"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { app: appName } = c.req.valid("param");
    const body = c.req.valid("json");
    const manifest = body.manifest as AppManifest;
    if (manifest.name !== appName) throw invalid(`manifest.name ${JSON.stringify(manifest.name)} does not match the app in the path (${appName})`);
    validateManifest(manifest);
    const bundle = new TextEncoder().encode(body.bundle);
    if (bundle.byteLength > MAX_BUNDLE_BYTES) {
      throw new ApiError("PAYLOAD_TOO_LARGE", `bundle is ${bundle.byteLength} bytes; the limit is ${MAX_BUNDLE_BYTES}`);
    }
    const bundleKey = `bundles/${await sha256Hex(bundle)}.mjs`;
    await c.env.BUNDLES.put(bundleKey, bundle);

    const d = q.db(c.env.DB);
    const workspaceId = c.get("workspaceId");
    const result = await q.recordDeployment(d, workspaceId, manifest, bundleKey, body.ephemeral ?? false);
    forgetResolvedPools();
    await configurePools(c, result);
    const response: DeployResponse = {
      appName,
      deploymentId: result.deploymentId,
      version: result.version,
      functions: result.functions.map((f) => q.functionInfo(f, appName)),
    };
    return c.json(response, 201);
  },
);

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
    if (f.kind === "class" && !(f.methods?.length)) throw invalid(`class "${f.name}" has no methods to call`);
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
async function configurePools(c: Context<AppEnv>, result: q.DeployResult): Promise<void> {
  const d = q.db(c.env.DB);
  const now = Date.now();
  await replaceSchedules(d, result.functions, now);
  await applyActiveScalingEntries(d, result.functions, now);
  const fresh = await q.functionsOfApp(d, result.app.id);
  const url = publicUrl(c);
  await Promise.all([
    ...fresh.filter((f) => f.live).map((fn) => reconfigurePools(c.env, d, { fn, app: result.app }, url)),
    ...(await poolsOf(c, result.removed)).map(({ fn, stub }) => stub.stopAll(`${fn.kind} ${fn.name} was removed by a deploy`)),
  ]);
}

apps.openapi(
  createRoute({
    method: "get",
    path: "/v1/apps",
    summary: "List the workspace's apps",
    security: [{ bearer: [] }],
    responses: { 200: json(z.object({ apps: z.array(z.record(z.string(), z.unknown())) }), "Apps"), ...errorResponses },
  }),
  async (c) => {
    const rows = await q.listApps(q.db(c.env.DB), c.get("workspaceId"));
    const body: ListAppsResponse = {
      apps: rows.map((a) => ({
        name: a.name,
        state: a.state,
        ephemeral: a.ephemeral,
        version: a.version,
        deploymentId: a.activeDeploymentId ?? "",
        deployedAt: new Date(a.deployedAt).toISOString(),
        functions: a.functions,
      })),
    };
    return c.json(body, 200);
  },
);

/** Every pool of an app: its functions and the class instances that were called. */
async function poolsOfApp(c: Context<AppEnv>, app: q.AppRow) {
  return (await poolsOf(c, await q.functionsOfApp(q.db(c.env.DB), app.id))).map((p) => p.stub);
}

/** The pools of these functions: a function's own, and a class's instances (a class has no pool of its own). */
async function poolsOf<F extends { id: string; kind: string }>(c: Context<AppEnv>, fns: F[]) {
  const instances = await q.classInstancesOf(q.db(c.env.DB), fns.filter((f) => f.kind === "class").map((f) => f.id));
  const byId = new Map(fns.map((f) => [f.id, f]));
  return [
    ...fns.filter((f) => f.kind === "function").map((fn) => ({ fn, stub: poolStub(c.env, fn.id, "") })),
    ...instances.map((i) => ({ fn: byId.get(i.functionId)!, stub: poolStub(c.env, i.functionId, i.instanceKey) })),
  ];
}

async function ownApp(c: Context<AppEnv>, name: string): Promise<q.AppRow> {
  const app = await q.findApp(q.db(c.env.DB), c.get("workspaceId"), name);
  if (!app) throw notFound(`app ${name} not found`);
  return app;
}

apps.openapi(
  createRoute({
    method: "post",
    path: "/v1/apps/{app}/stop",
    summary: "Stop an app: stop its containers and cancel its pending and running inputs",
    security: [{ bearer: [] }],
    request: { params: AppParam },
    responses: {
      200: json(z.object({ appName: z.string(), cancelledInputs: z.number(), stoppedContainers: z.number() }), "Stopped"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { app: name } = c.req.valid("param");
    const app = await ownApp(c, name);
    await q.setAppState(q.db(c.env.DB), app.id, "stopped");
    forgetResolvedPools();
    const results = await Promise.all((await poolsOfApp(c, app)).map((p) => p.stopAll(`app ${name} was stopped`)));
    const body: StopAppResponse = {
      appName: name,
      cancelledInputs: results.reduce((n, r) => n + r.cancelledInputs, 0),
      stoppedContainers: results.reduce((n, r) => n + r.stoppedContainers, 0),
    };
    return c.json(body, 200);
  },
);

apps.openapi(
  createRoute({
    method: "delete",
    path: "/v1/apps/{app}",
    summary: "Remove an app for good (squall run removes its ephemeral app this way)",
    security: [{ bearer: [] }],
    request: { params: AppParam },
    responses: { 200: json(z.object({ appName: z.string(), deleted: z.boolean() }), "Deleted"), ...errorResponses },
  }),
  async (c) => {
    const { app: name } = c.req.valid("param");
    const app = await ownApp(c, name);
    await q.setAppState(q.db(c.env.DB), app.id, "stopped");
    forgetResolvedPools();
    await Promise.all((await poolsOfApp(c, app)).map((p) => p.destroy()));
    await q.deleteApp(q.db(c.env.DB), app);
    return c.json({ appName: name, deleted: true }, 200);
  },
);

apps.openapi(
  createRoute({
    method: "get",
    path: "/v1/apps/{app}/functions/{name}",
    summary: "Look up a function or class of a deployed app by name",
    security: [{ bearer: [] }],
    request: { params: z.object({ app: Name, name: Name }) },
    responses: { 200: json(FunctionInfoSchema, "The function"), ...errorResponses },
  }),
  async (c) => {
    const { app, name } = c.req.valid("param");
    const found = await q.findFunctionByName(q.db(c.env.DB), c.get("workspaceId"), app, name);
    if (!found) throw notFound(`function ${name} not found in app ${app}`);
    if (found.app.state === "stopped") throw notFound(`app ${app} is stopped; deploy it again to call its functions`);
    return c.json(q.functionInfo(found.fn, app), 200);
  },
);

apps.openapi(
  createRoute({
    method: "get",
    path: "/v1/apps/{app}/schedules",
    summary: "The app's schedules (runs and scaling entries) with their next due times",
    security: [{ bearer: [] }],
    request: { params: AppParam },
    responses: { 200: json(z.object({ appName: z.string(), schedules: z.array(z.record(z.string(), z.unknown())) }), "Schedules"), ...errorResponses },
  }),
  async (c) => {
    const { app: name } = c.req.valid("param");
    const app = await ownApp(c, name);
    return c.json({ appName: name, schedules: await listSchedules(q.db(c.env.DB), app, Date.now()) }, 200);
  },
);

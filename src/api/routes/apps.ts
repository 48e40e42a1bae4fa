import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { publicUrl, type AppEnv } from "../context";
import type { AppManifest, ListAppsResponse } from "../../../sdk/src/wire/api";
import { json, errorResponses, Name } from "../schemas";
import { notFound } from "../../control/errors";
import * as q from "../../db/queries";
import { deleteApp, deployApp, ownApp, stopApp } from "../../control/apps";
import { listSchedules } from "../../schedule/schedules";

export const apps = new OpenAPIHono<AppEnv>();

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
    const request = { ...body, manifest: body.manifest as AppManifest };
    const deployed = await deployApp(c.env, { workspaceId: c.get("workspaceId"), appName, request, publicUrl: publicUrl(c) });
    return c.json(deployed, 201);
  },
);

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
    return c.json(await stopApp(c.env, c.get("workspaceId"), name), 200);
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
    await deleteApp(c.env, c.get("workspaceId"), name);
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
    const app = await ownApp(c.env, c.get("workspaceId"), name);
    return c.json({ appName: name, schedules: await listSchedules(q.db(c.env.DB), app, Date.now()) }, 200);
  },
);

import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env";
import type { ListAppsResponse } from "../../../sdk/src/wire/api";
import { ROUTES } from "../../../sdk/src/wire/routes";
import { json, errorResponses, Name, routeOf } from "../schemas";
import * as wire from "../wire";
import { notFound } from "../../control/errors";
import * as q from "../../db/queries";
import { deleteApp, deployApp, ownApp, stopApp } from "../../control/apps";
import { listSchedules } from "../../schedule/schedules";
import { publicUrl } from "../../app-env";

export const apps = new OpenAPIHono<AppEnv>();

const AppParam = z.object({ app: Name });

apps.openapi(
  createRoute({
    ...routeOf(ROUTES.deploy),
    summary: "Deploy an app: its bundle and manifest. Clears autoscaler overrides.",
    security: [{ bearer: [] }],
    request: { params: AppParam, body: { content: { "application/json": { schema: wire.DeployRequest } }, required: true } },
    responses: { 201: json(wire.DeployResponse, "Deployed"), ...errorResponses },
  }),
  async (c) => {
    const { app: appName } = c.req.valid("param");
    const deployed = await deployApp(c.env, { workspaceId: c.get("workspaceId"), appName, request: c.req.valid("json"), publicUrl: publicUrl(c) });
    return c.json(deployed, 201);
  },
);

apps.openapi(
  createRoute({
    ...routeOf(ROUTES.listApps),
    summary: "List the workspace's apps",
    security: [{ bearer: [] }],
    responses: { 200: json(wire.ListAppsResponse, "Apps"), ...errorResponses },
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
    ...routeOf(ROUTES.stopApp),
    summary: "Stop an app: stop its containers and cancel its pending and running inputs",
    security: [{ bearer: [] }],
    request: { params: AppParam },
    responses: { 200: json(wire.StopAppResponse, "Stopped"), ...errorResponses },
  }),
  async (c) => {
    const { app: name } = c.req.valid("param");
    return c.json(await stopApp(c.env, c.get("workspaceId"), name), 200);
  },
);

apps.openapi(
  createRoute({
    ...routeOf(ROUTES.deleteApp),
    summary: "Remove an app for good (squall run removes its ephemeral app this way)",
    security: [{ bearer: [] }],
    request: { params: AppParam },
    responses: { 200: json(wire.DeleteAppResponse, "Deleted"), ...errorResponses },
  }),
  async (c) => {
    const { app: name } = c.req.valid("param");
    await deleteApp(c.env, c.get("workspaceId"), name);
    return c.json({ appName: name, deleted: true }, 200);
  },
);

apps.openapi(
  createRoute({
    ...routeOf(ROUTES.lookupFunction),
    summary: "Look up a function or class of a deployed app by name",
    security: [{ bearer: [] }],
    request: { params: z.object({ app: Name, name: Name }) },
    responses: { 200: json(wire.FunctionInfo, "The function"), ...errorResponses },
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
    ...routeOf(ROUTES.listSchedules),
    summary: "The app's schedules (runs and scaling entries) with their next due times",
    security: [{ bearer: [] }],
    request: { params: AppParam },
    responses: { 200: json(wire.ListSchedulesResponse, "Schedules"), ...errorResponses },
  }),
  async (c) => {
    const { app: name } = c.req.valid("param");
    const app = await ownApp(c.env, c.get("workspaceId"), name);
    return c.json({ appName: name, schedules: await listSchedules(q.db(c.env.DB), app, Date.now()) }, 200);
  },
);

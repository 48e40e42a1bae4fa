import { OpenAPIHono, createRoute } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env";
import { json, routeOf } from "../schemas";
import { HealthResponse } from "../wire";
import { ROUTES } from "../../../sdk/src/wire/routes";

export const health = new OpenAPIHono<AppEnv>();

health.openapi(
  createRoute({
    ...routeOf(ROUTES.health),
    summary: "Readiness: the Worker answers and its database is reachable",
    responses: { 200: json(HealthResponse, "Ready") },
  }),
  async (c) => {
    await c.env.DB.prepare("SELECT 1").first();
    return c.json({ ok: true, version: "0.1.0", ...(c.env.SQUALL_PLATFORM_ID ? { platformId: c.env.SQUALL_PLATFORM_ID } : {}) }, 200);
  },
);

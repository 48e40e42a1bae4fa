import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { json } from "../schemas";

export const health = new OpenAPIHono<AppEnv>();

health.openapi(
  createRoute({
    method: "get",
    path: "/v1/health",
    summary: "Readiness: the Worker answers and its database is reachable",
    responses: {
      200: json(
        z.object({
          ok: z.boolean(),
          version: z.string(),
          // Set by the local platform's launcher, which checks that it is its own Worker that answers.
          platformId: z.string().optional(),
        }),
        "Ready",
      ),
    },
  }),
  async (c) => {
    await c.env.DB.prepare("SELECT 1").first();
    return c.json({ ok: true, version: "0.1.0", ...(c.env.SQUALL_PLATFORM_ID ? { platformId: c.env.SQUALL_PLATFORM_ID } : {}) }, 200);
  },
);

// The routes a map sends every batch of inputs and every read of outputs
// through. They are declared like every other route (the same OpenAPI entry),
// but their path parameters and query are checked by hand in the handler
// instead of by a zod validator middleware per request; whatever a quick
// check does not vouch for goes to the route's schema, which decides and words
// the 400 exactly as the validator would have.
import type { Context, Handler } from "hono";
import type { OpenAPIHono, RouteConfig } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { MAX_CALL_ID_LENGTH } from "./schemas";

/** Registers `route`'s OpenAPI entry and its handler, with no validators in front of it. */
export function hotRoute(app: OpenAPIHono<AppEnv>, route: RouteConfig, handler: Handler<AppEnv>): void {
  app.openAPIRegistry.registerPath(route);
  app.on(route.method.toUpperCase(), route.path.replaceAll(/\/{(.+?)}/g, "/:$1"), handler);
}

/** The query as Hono's validator hands it to a schema: one string per name, or a list for a name given more than once. */
export function queryOf(c: Context): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(c.req.queries()).map(([k, v]) => (v.length === 1 ? [k, v[0]] : [k, v])));
}

/** The `callId` path parameter as CallIdParam takes it; null when it is not one. */
export function quickCallId(c: Context): { callId: string } | null {
  const callId = c.req.param("callId");
  return typeof callId === "string" && callId.length <= MAX_CALL_ID_LENGTH ? { callId } : null;
}

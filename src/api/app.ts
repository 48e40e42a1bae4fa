// The Worker's HTTP API (docs/architecture.md "The Worker and its API"): Hono routes under /v1,
// zod-validated, bearer-token auth, one JSON error shape, OpenAPI document.
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../app-env";
import { ApiError } from "../control/errors";
import { errorResponse } from "./errors";
import { describeZodError } from "../control/validation";
import { requireToken } from "./auth";
import { health } from "./routes/health";
import { tokens } from "./routes/tokens";
import { apps } from "./routes/apps";
import { functions } from "./routes/functions";
import { channel } from "./routes/channel";
import { calls } from "./routes/calls";
import { internal } from "./routes/internal";
import { dashboard } from "../dashboard/routes";

/** The largest request body: a 20 MB bundle as JSON, with room to spare. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Dashboard requests (sign-in form, autoscaler settings) are tiny. */
const MAX_DASHBOARD_BODY_BYTES = 64 * 1024;
/** Routes that need no workspace token (they check their own credentials, or none). */
const PUBLIC_ROUTES = [/^\/v1\/health$/, /^\/v1\/openapi\.json$/, /^\/v1\/workspaces$/, /^\/v1\/internal\//];

export function createApi(): OpenAPIHono<AppEnv> {
  const api = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw new ApiError("INVALID_ARGUMENT", describeZodError(result.error));
    },
  });

  api.onError((err) => {
    if (err instanceof ApiError) return errorResponse(err);
    if (err instanceof HTTPException && err.status < 500) {
      // Hono's own validators (e.g. malformed JSON) speak in HTTPExceptions.
      const code = err.status === 413 ? "PAYLOAD_TOO_LARGE" : err.status === 401 ? "UNAUTHENTICATED" : "INVALID_ARGUMENT";
      return errorResponse(new ApiError(code, err.message || "malformed request"));
    }
    console.error("unexpected error", err);
    return errorResponse(new ApiError("INTERNAL", "internal error; the platform's logs have the details"));
  });
  api.notFound((c) => errorResponse(new ApiError("NOT_FOUND", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));

  api.use(
    "/v1/*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => errorResponse(new ApiError("PAYLOAD_TOO_LARGE", `request body is larger than ${MAX_BODY_BYTES} bytes`)),
    }),
  );
  // The dashboard takes a sign-in form and autoscaler settings: a few hundred bytes.
  api.use(
    "/dashboard/*",
    bodyLimit({
      maxSize: MAX_DASHBOARD_BODY_BYTES,
      onError: () => errorResponse(new ApiError("PAYLOAD_TOO_LARGE", `request body is larger than ${MAX_DASHBOARD_BODY_BYTES} bytes`)),
    }),
  );
  api.use("/v1/*", async (c, next) => {
    const path = new URL(c.req.url).pathname;
    if (PUBLIC_ROUTES.some((r) => r.test(path))) return next();
    return requireToken(c, next);
  });

  api.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  for (const routes of [health, tokens, apps, functions, channel, calls, internal]) api.route("/", routes);
  api.doc31("/v1/openapi.json", {
    openapi: "3.1.0",
    info: { title: "Squall API", version: "0.1.0", description: "Deploy TypeScript functions and call them at scale." },
  });
  api.route("/", dashboard);
  return api;
}

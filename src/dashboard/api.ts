// The dashboard's data routes, under /dashboard/api: signed in by the
// session cookie, scoped to its workspace (another workspace's app or
// function is 404), failures in the API's JSON error shape.
import { Hono } from "hono";
import { poolRequest, type AppEnv } from "../app-env";
import { ApiError, invalid, notFound } from "../control/errors";
import { instanceParamsOf } from "../control/validation";
import { MAX_VARIANT_LENGTH } from "../../sdk/src/wire/variant";
import { resolvePool } from "../control/pools";
import { overrideAutoscaler } from "../control/overrides";
import { db } from "../db/queries";
import { appContents, poolOverview, type PoolOverview } from "./data";
import { requireSession } from "./session";

/** GET /dashboard/api/apps/:app */
export interface AppOverview {
  /** The server's clock: the page draws charts up to it and asks for metrics since shortly before it. */
  now: number;
  app: { name: string; state: "deployed" | "stopped"; version: number };
  pools: PoolOverview[];
}

export const dashboardApi = new Hono<AppEnv>();

dashboardApi.use("/dashboard/api/*", requireSession);

dashboardApi.get("/dashboard/api/apps/:app", async (c) => {
  const name = c.req.param("app");
  const since = Number(c.req.query("since") ?? 0);
  if (!Number.isSafeInteger(since) || since < 0) throw invalid("since: must be a time in ms since the epoch");
  const workspaceId = c.get("workspaceId");
  const contents = await appContents(db(c.env.DB), workspaceId, name);
  if (!contents) throw notFound(`app ${name} not found`);
  const now = Date.now();
  const refs = contents.functions.flatMap((f) => f.pools);
  const body: AppOverview = {
    now,
    app: { name: contents.app.name, state: contents.app.state, version: contents.app.version },
    pools: await Promise.all(refs.map((ref) => poolOverview(c.env, workspaceId, ref, since, now))),
  };
  return c.json(body);
});

dashboardApi.patch("/dashboard/api/functions/:functionId/autoscaler", async (c) => {
  // JSON only: a cross-site form cannot send it, and a cross-site script would need CORS, which this route never grants.
  if (!/^application\/json\b/i.test(c.req.header("content-type") ?? "")) {
    throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "send the settings as JSON (content-type: application/json)");
  }
  const params = instanceParamsOf(c.req.query("params"));
  let settings: unknown;
  try {
    settings = await c.req.json();
  } catch {
    throw invalid("the body is not valid JSON");
  }
  const variant = c.req.query("variant") ?? null;
  if (variant !== null && variant.length > MAX_VARIANT_LENGTH) throw invalid(`variant is longer than ${MAX_VARIANT_LENGTH} characters`);
  const pool = await resolvePool(c.env, poolRequest(c, c.req.param("functionId"), params, variant));
  return c.json(await overrideAutoscaler(c.env, pool, settings));
});

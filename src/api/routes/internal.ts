import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env";
import { errorResponses, routeOf } from "../schemas";
import { ROUTES } from "../../../sdk/src/wire/routes";
import { ApiError, notFound } from "../../control/errors";
import { db, bundleKeyOf } from "../../db/queries";
import { containerSecret, signingKey, timingSafeEqual } from "../../auth/crypto";
import { bearer } from "../auth";

/** Routes containers call; authenticated by their per-container secret, not by a workspace token. */
export const internal = new OpenAPIHono<AppEnv>();

internal.openapi(
  createRoute({
    ...routeOf(ROUTES.bundle),
    summary: "A container downloads its app bundle (container secret as bearer token)",
    request: { params: z.object({ deploymentId: z.string().max(64) }), query: z.object({ container: z.string().max(64) }) },
    responses: { 200: { description: "The ESM bundle", content: { "text/javascript": { schema: z.string() } } }, ...errorResponses },
  }),
  async (c) => {
    const { deploymentId } = c.req.valid("param");
    const { container } = c.req.valid("query");
    const token = bearer(c.req.header("authorization")) ?? "";
    const expected = await containerSecret(signingKey(c.env), deploymentId, container);
    if (!timingSafeEqual(token, expected)) throw new ApiError("UNAUTHENTICATED", "invalid container secret");
    const key = await bundleKeyOf(db(c.env.DB), deploymentId);
    const object = key ? await c.env.BUNDLES.get(key) : null;
    if (!object) throw notFound(`bundle of deployment ${deploymentId} not found`);
    return new Response(object.body, { headers: { "content-type": "text/javascript; charset=utf-8" } });
  },
);

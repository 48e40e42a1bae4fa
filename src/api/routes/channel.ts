// The door to a call channel (sdk/src/wire/channel.ts): the token and the
// request rate are checked by the API's middleware and the function here,
// once, as for any request; then the upgrade goes to the function's pool,
// which holds the socket and answers its calls (api/call-channel.ts).
import { OpenAPIHono, createRoute } from "@hono/zod-openapi";
import { poolRequest, type AppEnv } from "../../app-env";
import { ROUTES } from "../../../sdk/src/wire/routes";
import { errorResponses, FunctionIdParam, InstanceQuery, routeOf } from "../schemas";
import { invalid } from "../../control/errors";
import { resolvePool } from "../../control/pools";
import { CHANNEL_OPENING_HEADER } from "../call-channel";
import type { ChannelOpening } from "../channel-calls";

export const channel = new OpenAPIHono<AppEnv>();

/** The pool's end of the upgrade: any URL on the pool's stub reaches its fetch. */
const POOL_CHANNEL_URL = "https://pool/channel";

channel.openapi(
  createRoute({
    ...routeOf(ROUTES.callChannel),
    summary: "Open a call channel: a WebSocket to the function's pool on which each binary frame starts a remote call (the SDK's `.remote()` in Node)",
    security: [{ bearer: [] }],
    request: { params: FunctionIdParam, query: InstanceQuery },
    responses: { 101: { description: "Switching protocols: the channel is open" }, ...errorResponses },
  }),
  async (c) => {
    const { functionId } = c.req.valid("param");
    const { params, variant } = c.req.valid("query");
    const pool = await resolvePool(c.env, poolRequest(c, functionId, params ?? null, variant ?? null));
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") throw invalid("this route opens a call channel: send a WebSocket upgrade (Upgrade: websocket)");
    const { kind, name, methods } = pool.resolved.fn;
    const opening: ChannelOpening = { config: pool.config, fn: { kind, name, methods }, tokenHash: c.get("tokenHash") };
    return pool.stub.fetch(POOL_CHANNEL_URL, { headers: { upgrade: "websocket", [CHANNEL_OPENING_HEADER]: JSON.stringify(opening) } });
  },
);

import { OpenAPIHono, createRoute } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env";
import { requireAdmin } from "../auth";
import { json, errorResponses, routeOf } from "../schemas";
import * as wire from "../wire";
import { ROUTES } from "../../../sdk/src/wire/routes";
import { db, createWorkspace, createToken } from "../../db/queries";
import { hashToken, newToken } from "../../auth/crypto";

export const tokens = new OpenAPIHono<AppEnv>();

tokens.openapi(
  createRoute({
    ...routeOf(ROUTES.createWorkspace),
    summary: "Create a workspace and its first token (admin secret)",
    middleware: [requireAdmin] as const,
    request: { body: { content: { "application/json": { schema: wire.CreateWorkspaceRequest } }, required: true } },
    responses: { 201: json(wire.CreateTokenResponse, "Created"), ...errorResponses },
  }),
  async (c) => {
    const { name } = c.req.valid("json");
    const token = newToken();
    const { workspaceId, tokenId } = await createWorkspace(db(c.env.DB), name, await hashToken(token));
    return c.json({ workspaceId, tokenId, token }, 201);
  },
);

tokens.openapi(
  createRoute({
    ...routeOf(ROUTES.createToken),
    summary: "Create another token for the caller's workspace",
    security: [{ bearer: [] }],
    responses: { 201: json(wire.CreateTokenResponse, "Created"), ...errorResponses },
  }),
  async (c) => {
    const token = newToken();
    const workspaceId = c.get("workspaceId");
    const tokenId = await createToken(db(c.env.DB), workspaceId, await hashToken(token));
    return c.json({ workspaceId, tokenId, token }, 201);
  },
);

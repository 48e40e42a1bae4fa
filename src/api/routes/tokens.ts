import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { requireAdmin } from "../auth";
import { json, errorResponses } from "../schemas";
import { db, createWorkspace, createToken } from "../../db/queries";
import { hashToken, newToken } from "../../auth/crypto";

export const tokens = new OpenAPIHono<AppEnv>();

const TokenResponse = z.object({ workspaceId: z.string(), tokenId: z.string(), token: z.string() }).openapi("TokenResponse");

tokens.openapi(
  createRoute({
    method: "post",
    path: "/v1/workspaces",
    summary: "Create a workspace and its first token (admin secret)",
    middleware: [requireAdmin] as const,
    request: { body: { content: { "application/json": { schema: z.object({ name: z.string().min(1).max(64) }) } }, required: true } },
    responses: { 201: json(TokenResponse, "Created"), ...errorResponses },
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
    method: "post",
    path: "/v1/tokens",
    summary: "Create another token for the caller's workspace",
    security: [{ bearer: [] }],
    responses: { 201: json(TokenResponse, "Created"), ...errorResponses },
  }),
  async (c) => {
    const token = newToken();
    const workspaceId = c.get("workspaceId");
    const tokenId = await createToken(db(c.env.DB), workspaceId, await hashToken(token));
    return c.json({ workspaceId, tokenId, token }, 201);
  },
);

import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { json, cbor, errorResponses, CallIdParam, InputItemSchema, queryInt } from "../schemas";
import { readCbor, cborResponse } from "../cbor";
import { fromPoolError } from "../errors";
import { poolOfCall } from "../pools";
import { checkInputOrder, checkInputSizes } from "./functions";

export const calls = new OpenAPIHono<AppEnv>();

const PutInputsBody = z.object({
  inputs: z.array(InputItemSchema).max(1_000),
  closed: z.boolean(),
  method: z.string().max(64).optional(),
});

calls.openapi(
  createRoute({
    method: "post",
    path: "/v1/calls/{callId}/inputs",
    summary: "Add inputs to a map call (a resent batch is not added twice)",
    security: [{ bearer: [] }],
    request: { params: CallIdParam, body: { ...cbor("PutInputsRequest"), required: true } },
    responses: { 200: cbor("PutInputsResponse"), ...errorResponses },
  }),
  async (c) => {
    const { callId } = c.req.valid("param");
    const body = await readCbor(c, PutInputsBody);
    checkInputSizes(body.inputs);
    checkInputOrder(body.inputs);
    const result = await poolOfCall(c.env, callId).putInputs(c.get("workspaceId"), callId, body.inputs, body.closed, body.method ?? null);
    if (!result.ok) throw fromPoolError(result.error);
    return cborResponse(result.value);
  },
);

calls.openapi(
  createRoute({
    method: "get",
    path: "/v1/calls/{callId}/outputs",
    summary: "Outputs after a cursor, in completion order; waits up to waitMs for the first",
    security: [{ bearer: [] }],
    request: {
      params: CallIdParam,
      query: z.object({
        cursor: queryInt(0, Number.MAX_SAFE_INTEGER).optional(),
        waitMs: queryInt(0, 60_000).optional(),
      }),
    },
    responses: { 200: cbor("GetOutputsResponse"), ...errorResponses },
  }),
  async (c) => {
    const { callId } = c.req.valid("param");
    const { cursor, waitMs } = c.req.valid("query");
    const result = await poolOfCall(c.env, callId).getOutputs(c.get("workspaceId"), callId, cursor ?? 0, waitMs ?? 0);
    if (!result.ok) throw fromPoolError(result.error);
    return cborResponse(result.value);
  },
);

calls.openapi(
  createRoute({
    method: "post",
    path: "/v1/calls/{callId}/cancel",
    summary: "Cancel a call: its pending and running inputs end with InputCancellation",
    security: [{ bearer: [] }],
    request: { params: CallIdParam },
    responses: { 200: json(z.object({ cancelledInputs: z.number() }), "Cancelled"), ...errorResponses },
  }),
  async (c) => {
    const { callId } = c.req.valid("param");
    const result = await poolOfCall(c.env, callId).cancelCall(c.get("workspaceId"), callId);
    if (!result.ok) throw fromPoolError(result.error);
    return c.json(result.value, 200);
  },
);

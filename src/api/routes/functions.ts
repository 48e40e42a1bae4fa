import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { poolRequest, type AppEnv } from "../../app-env";
import type { CreateCallResponse, FunctionStats, SpawnResponse } from "../../../sdk/src/wire/api";
import { ROUTES } from "../../../sdk/src/wire/routes";
import { json, cbor, errorResponses, FunctionIdParam, InstanceQuery, queryInt, routeOf } from "../schemas";
import * as wire from "../wire";
import { readCbor, cborResponse, outputsResponse } from "../cbor";
import { fromPoolError, invalid } from "../../control/errors";
import { resolvePool, variantsOfStats } from "../../control/pools";
import { checkMethod } from "../../control/validation";
import { bytesToBase64url } from "../../../sdk/src/wire/base64url";
import { overrideAutoscaler } from "../../control/overrides";
import { spawnCalls } from "../../spawn/producer";
import { checkCallInputs, checkInputSizes, quickCreateCall } from "../call-bodies";

export const functions = new OpenAPIHono<AppEnv>();

functions.openapi(
  createRoute({
    ...routeOf(ROUTES.createCall),
    summary: "Start a call (remote or map) with its first inputs; remote waits for its output",
    security: [{ bearer: [] }],
    request: { params: FunctionIdParam, body: { ...cbor(wire.CreateCallRequest, "The call and its first inputs"), required: true } },
    responses: { 200: cbor(wire.CreateCallResponse, "The call and the outputs ready so far"), ...errorResponses },
  }),
  async (c) => {
    const { functionId } = c.req.valid("param");
    const body = await readCbor(c, wire.CreateCallRequest, quickCreateCall);
    if (body.kind === "remote" && (body.inputs.length !== 1 || !body.closed)) throw invalid("a remote call has exactly one input and is closed");
    checkCallInputs(body.inputs);
    if (body.inputs.length > 0 && body.inputs[0].idx !== 0) throw invalid(`inputs: a call's first input is idx 0, not ${body.inputs[0].idx}`);
    const pool = await resolvePool(c.env, poolRequest(c, functionId, body.params ? bytesToBase64url(body.params) : null, body.variant ?? null));
    const method = checkMethod(pool.resolved, body.method);
    const result = await pool.stub.createCall(pool.config, {
      kind: body.kind,
      method,
      inputs: body.inputs,
      closed: body.closed,
      waitMs: body.waitMs ?? 0,
      requestId: body.requestId ?? null,
    });
    if (!result.ok) throw fromPoolError(result.error);
    const response: CreateCallResponse = result.value;
    return outputsResponse(response);
  },
);

functions.openapi(
  createRoute({
    ...routeOf(ROUTES.spawn),
    summary: "Spawn one call per input; returns their call ids at once",
    security: [{ bearer: [] }],
    request: { params: FunctionIdParam, body: { ...cbor(wire.SpawnRequest, "One input per call to spawn"), required: true } },
    responses: { 200: cbor(wire.SpawnResponse, "The spawned calls' ids, in input order"), ...errorResponses },
  }),
  async (c) => {
    const { functionId } = c.req.valid("param");
    const body = await readCbor(c, wire.SpawnRequest);
    checkInputSizes(body.inputs);
    const pool = await resolvePool(c.env, poolRequest(c, functionId, body.params ? bytesToBase64url(body.params) : null, body.variant ?? null));
    const method = checkMethod(pool.resolved, body.method);
    const ordered = [...body.inputs].sort((a, b) => a.idx - b.idx);
    const spawned = await spawnCalls(
      c.env,
      pool,
      ordered.map((i) => i.args),
      method,
    );
    if (!spawned.ok) throw fromPoolError(spawned.error);
    const response: SpawnResponse = { callIds: spawned.value.callIds };
    return cborResponse(response);
  },
);

const StatsSchema = z
  .object({
    backlog: z.number(),
    runningInputs: z.number(),
    containers: z.object({ starting: z.number(), idle: z.number(), busy: z.number(), total: z.number() }),
    autoscaler: z.object({
      minContainers: z.number(),
      maxContainers: z.number().nullable(),
      bufferContainers: z.number(),
      scaledownWindowMs: z.union([z.number(), z.literal("auto")]),
    }),
    autoscalerSources: z.record(z.string(), z.enum(["declared", "override", "schedule", "clamped"])).optional(),
    adaptive: z
      .object({
        representative: z.boolean(),
        reason: z.string(),
        keepAliveMs: z.number(),
        prewarmAfterMs: z.number().nullable(),
        prewarmAtMs: z.number().nullable(),
        samples: z.number(),
      })
      .optional()
      .openapi({ description: 'Only while scaledownWindowMs is "auto": the learned keep-alive, the next planned pre-warm, and why' }),
    startsHeldBack: z
      .object({
        reason: z.enum(["capacity", "platform_error", "start_failures"]),
        message: z.string(),
        untilMs: z.number(),
      })
      .nullable()
      .optional()
      .openapi({ description: "Set while the pool starts no containers although it may want some: why, the last error, and until when (ms since the epoch)" }),
    variant: z.string().optional().openapi({ description: "A variant's pool: its options, canonical (`maxContainers=2,maxInputs=4`)" }),
    variants: z.array(z.string()).optional().openapi({ description: "A function's own pool: the variants of it that have been called" }),
  })
  .openapi("FunctionStats") satisfies z.ZodType<FunctionStats>;

functions.openapi(
  createRoute({
    ...routeOf(ROUTES.stats),
    summary: "Backlog, running inputs, containers by state and the autoscaler settings in effect",
    security: [{ bearer: [] }],
    request: { params: FunctionIdParam, query: InstanceQuery },
    responses: { 200: json(StatsSchema, "Stats"), ...errorResponses },
  }),
  async (c) => {
    const { functionId } = c.req.valid("param");
    const { params, variant } = c.req.valid("query");
    const pool = await resolvePool(c.env, poolRequest(c, functionId, params ?? null, variant ?? null));
    await pool.stub.configure(pool.config);
    const stats = await pool.stub.stats(c.get("workspaceId"));
    if (!stats.ok) throw fromPoolError(stats.error);
    return c.json({ ...stats.value, ...(await variantsOfStats(c.env, pool)) }, 200);
  },
);

functions.openapi(
  createRoute({
    ...routeOf(ROUTES.updateAutoscaler),
    summary: "Override autoscaler settings now (merged field by field; cleared by the next deploy)",
    security: [{ bearer: [] }],
    request: {
      params: FunctionIdParam,
      query: InstanceQuery,
      body: { content: { "application/json": { schema: wire.UpdateAutoscalerRequest } }, required: true },
    },
    responses: { 200: json(StatsSchema.shape.autoscaler, "The settings now in effect"), ...errorResponses },
  }),
  async (c) => {
    const { functionId } = c.req.valid("param");
    const { params, variant } = c.req.valid("query");
    const pool = await resolvePool(c.env, poolRequest(c, functionId, params ?? null, variant ?? null));
    return c.json(await overrideAutoscaler(c.env, pool, c.req.valid("json")), 200);
  },
);

functions.openapi(
  createRoute({
    ...routeOf(ROUTES.logs),
    summary: "The tail of the function's container output, each line with its container and call",
    security: [{ bearer: [] }],
    request: {
      params: FunctionIdParam,
      query: InstanceQuery.extend({ after: queryInt(0, Number.MAX_SAFE_INTEGER).optional(), limit: queryInt(1, 1000).optional() }),
    },
    responses: { 200: json(wire.GetLogsResponse, "Log lines"), ...errorResponses },
  }),
  async (c) => {
    const { functionId } = c.req.valid("param");
    const { params, variant, after, limit } = c.req.valid("query");
    const pool = await resolvePool(c.env, poolRequest(c, functionId, params ?? null, variant ?? null));
    await pool.stub.configure(pool.config);
    const logs = await pool.stub.readLogs(c.get("workspaceId"), after ?? 0, limit ?? 500);
    if (!logs.ok) throw fromPoolError(logs.error);
    const lines = logs.value;
    return c.json({ lines, cursor: lines.length ? lines[lines.length - 1].seq : (after ?? 0) }, 200);
  },
);

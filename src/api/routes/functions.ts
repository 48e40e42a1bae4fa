import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { MAX_INPUT_ARGS_BYTES, type CreateCallResponse, type SpawnResponse } from "../../../sdk/src/wire/api";
import { json, cbor, errorResponses, FunctionIdParam, InstanceQuery, InputItemSchema, queryInt } from "../schemas";
import { readCbor, cborResponse } from "../cbor";
import { ApiError, fromPoolError, invalid } from "../errors";
import { checkMethod, resolvePool } from "../pools";
import { bytesToBase64url } from "../../../sdk/src/wire/base64url";
import { overrideAutoscaler } from "../autoscaler-override";
import { spawnCalls } from "../../spawn/producer";

export const functions = new OpenAPIHono<AppEnv>();

/** One input's arguments inline; larger ones are refused with a clear size error rather than truncated. */
const MAX_ARGS_BYTES = MAX_INPUT_ARGS_BYTES;
/** Inputs in one request: the SDK sends batches of up to 500. */
const MAX_INPUTS_PER_REQUEST = 1_000;

const CallBody = z.object({
  kind: z.enum(["remote", "map"]),
  method: z.string().max(64).optional(),
  params: z.instanceof(Uint8Array).optional(),
  inputs: z.array(InputItemSchema).max(MAX_INPUTS_PER_REQUEST),
  closed: z.boolean(),
  waitMs: z.number().int().min(0).max(60_000).optional(),
  requestId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, "must be 8 to 64 letters, digits, - or _").optional(),
});

const SpawnBody = z.object({
  method: z.string().max(64).optional(),
  params: z.instanceof(Uint8Array).optional(),
  inputs: z.array(InputItemSchema).min(1).max(MAX_INPUTS_PER_REQUEST),
});

/**
 * A call's inputs are numbered 0, 1, 2, … and sent in that order, so a pool
 * can tell a resent batch (idx below what it has) from a new one.
 */
export function checkInputOrder(inputs: ReadonlyArray<{ idx: number }>): void {
  for (let i = 1; i < inputs.length; i++) {
    if (inputs[i].idx !== inputs[i - 1].idx + 1) {
      throw invalid(`inputs: idx must count up by one within a request (idx ${inputs[i].idx} follows idx ${inputs[i - 1].idx})`);
    }
  }
}

export function checkInputSizes(inputs: Array<{ idx: number; args: Uint8Array }>): void {
  for (const input of inputs) {
    if (input.args.byteLength > MAX_ARGS_BYTES) {
      throw new ApiError("PAYLOAD_TOO_LARGE", `input ${input.idx}: arguments are ${input.args.byteLength} bytes; the limit is ${MAX_ARGS_BYTES} bytes per input`);
    }
  }
  const seen = new Set<number>();
  for (const input of inputs) {
    if (seen.has(input.idx)) throw invalid(`inputs: idx ${input.idx} appears twice`);
    seen.add(input.idx);
  }
}

functions.openapi(
  createRoute({
    method: "post",
    path: "/v1/functions/{functionId}/calls",
    summary: "Start a call (remote or map) with its first inputs; remote waits for its output",
    security: [{ bearer: [] }],
    request: { params: FunctionIdParam, body: { ...cbor("CreateCallRequest"), required: true } },
    responses: { 200: cbor("CreateCallResponse"), ...errorResponses },
  }),
  async (c) => {
    const { functionId } = c.req.valid("param");
    const body = await readCbor(c, CallBody);
    if (body.kind === "remote" && (body.inputs.length !== 1 || !body.closed)) throw invalid("a remote call has exactly one input and is closed");
    checkInputSizes(body.inputs);
    checkInputOrder(body.inputs);
    if (body.inputs.length > 0 && body.inputs[0].idx !== 0) throw invalid(`inputs: a call's first input is idx 0, not ${body.inputs[0].idx}`);
    const pool = await resolvePool(c, functionId, body.params ? bytesToBase64url(body.params) : null);
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
    return cborResponse(response);
  },
);

functions.openapi(
  createRoute({
    method: "post",
    path: "/v1/functions/{functionId}/spawns",
    summary: "Spawn one call per input; returns their call ids at once",
    security: [{ bearer: [] }],
    request: { params: FunctionIdParam, body: { ...cbor("SpawnRequest"), required: true } },
    responses: { 200: cbor("SpawnResponse"), ...errorResponses },
  }),
  async (c) => {
    const { functionId } = c.req.valid("param");
    const body = await readCbor(c, SpawnBody);
    checkInputSizes(body.inputs);
    const pool = await resolvePool(c, functionId, body.params ? bytesToBase64url(body.params) : null);
    const method = checkMethod(pool.resolved, body.method);
    const ordered = [...body.inputs].sort((a, b) => a.idx - b.idx);
    const spawned = await spawnCalls(c.env, pool, ordered.map((i) => i.args), method);
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
    autoscaler: z.object({ minContainers: z.number(), maxContainers: z.number().nullable(), bufferContainers: z.number(), scaledownWindowMs: z.number() }),
    startsHeldBack: z
      .object({
        reason: z.enum(["capacity", "platform_error", "start_failures"]),
        message: z.string(),
        untilMs: z.number(),
      })
      .nullable()
      .optional()
      .openapi({ description: "Set while the pool starts no containers although it may want some: why, the last error, and until when (ms since the epoch)" }),
  })
  .openapi("FunctionStats");

functions.openapi(
  createRoute({
    method: "get",
    path: "/v1/functions/{functionId}/stats",
    summary: "Backlog, running inputs, containers by state and the autoscaler settings in effect",
    security: [{ bearer: [] }],
    request: { params: FunctionIdParam, query: InstanceQuery },
    responses: { 200: json(StatsSchema, "Stats"), ...errorResponses },
  }),
  async (c) => {
    const { functionId } = c.req.valid("param");
    const { params } = c.req.valid("query");
    const pool = await resolvePool(c, functionId, params ?? null);
    await pool.stub.configure(pool.config);
    const stats = await pool.stub.stats(c.get("workspaceId"));
    if (!stats.ok) throw fromPoolError(stats.error);
    return c.json(stats.value, 200);
  },
);

const AutoscalerBody = z.record(z.string(), z.unknown());

functions.openapi(
  createRoute({
    method: "patch",
    path: "/v1/functions/{functionId}/autoscaler",
    summary: "Override autoscaler settings now (merged field by field; cleared by the next deploy)",
    security: [{ bearer: [] }],
    request: { params: FunctionIdParam, query: InstanceQuery, body: { content: { "application/json": { schema: AutoscalerBody } }, required: true } },
    responses: { 200: json(StatsSchema.shape.autoscaler, "The settings now in effect"), ...errorResponses },
  }),
  async (c) => {
    const { functionId } = c.req.valid("param");
    const { params } = c.req.valid("query");
    const pool = await resolvePool(c, functionId, params ?? null);
    return c.json(await overrideAutoscaler(c.env, pool, c.req.valid("json")), 200);
  },
);

functions.openapi(
  createRoute({
    method: "get",
    path: "/v1/functions/{functionId}/logs",
    summary: "The tail of the function's container output, each line with its container and call",
    security: [{ bearer: [] }],
    request: {
      params: FunctionIdParam,
      query: InstanceQuery.extend({ after: queryInt(0, Number.MAX_SAFE_INTEGER).optional(), limit: queryInt(1, 1000).optional() }),
    },
    responses: { 200: json(z.object({ lines: z.array(z.record(z.string(), z.unknown())), cursor: z.number() }), "Log lines"), ...errorResponses },
  }),
  async (c) => {
    const { functionId } = c.req.valid("param");
    const { params, after, limit } = c.req.valid("query");
    const pool = await resolvePool(c, functionId, params ?? null);
    await pool.stub.configure(pool.config);
    const logs = await pool.stub.readLogs(c.get("workspaceId"), after ?? 0, limit ?? 500);
    if (!logs.ok) throw fromPoolError(logs.error);
    const lines = logs.value;
    return c.json({ lines, cursor: lines.length ? lines[lines.length - 1].seq : after ?? 0 }, 200);
  },
);

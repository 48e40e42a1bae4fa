import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../app-env";
import { json, cbor, errorResponses, CallIdParam, queryInt, quickQueryInt, routeOf } from "../schemas";
import * as wire from "../wire";
import { MAX_REQUEST_WAIT_MS } from "../wire";
import { readCbor, cborResponse, bytesResponse } from "../cbor";
import { fromPoolError } from "../../control/errors";
import { poolStubOfCall } from "../../control/pools";
import { poolIdOfCall } from "../../pool/call-id";
import { MAX_RESULT_BYTES_PER_READ } from "../../pool/limits";
import type { GetCallResultsResponse } from "../../../sdk/src/wire/api";
import { ROUTES } from "../../../sdk/src/wire/routes";
import { checkCallInputs, quickPutInputs } from "../call-bodies";
import { hotRoute, queryOf, quickCallId } from "../hot-route";
import { checked } from "../../control/validation";

export const calls = new OpenAPIHono<AppEnv>();

hotRoute(
  calls,
  createRoute({
    ...routeOf(ROUTES.putInputs),
    summary: "Add inputs to a map call (a resent batch is not added twice)",
    security: [{ bearer: [] }],
    request: { params: CallIdParam, body: { ...cbor(wire.PutInputsRequest, "More inputs, and whether they are the last"), required: true } },
    responses: { 200: cbor(wire.PutInputsResponse, "How many inputs were new"), ...errorResponses },
  }),
  async (c) => {
    const { callId } = checked(
      CallIdParam,
      () => c.req.param(),
      () => quickCallId(c),
    );
    const body = await readCbor(c, wire.PutInputsRequest, quickPutInputs);
    checkCallInputs(body.inputs);
    const result = await poolStubOfCall(c.env, callId).putInputs(c.get("workspaceId"), callId, body.inputs, body.closed, body.method ?? null);
    if (!result.ok) throw fromPoolError(result.error);
    return cborResponse(result.value);
  },
);

const OutputsQuery = z.object({
  cursor: queryInt(0, Number.MAX_SAFE_INTEGER).optional(),
  waitMs: queryInt(0, MAX_REQUEST_WAIT_MS).optional(),
});

function quickOutputsQuery(c: Context): z.infer<typeof OutputsQuery> | null {
  const query = c.req.queries();
  const cursor = quickQueryInt(query.cursor, 0, Number.MAX_SAFE_INTEGER);
  const waitMs = quickQueryInt(query.waitMs, 0, MAX_REQUEST_WAIT_MS);
  return cursor === null || waitMs === null ? null : { cursor, waitMs };
}

hotRoute(
  calls,
  createRoute({
    ...routeOf(ROUTES.getOutputs),
    summary: "Outputs after a cursor, in completion order; waits up to waitMs for the first",
    security: [{ bearer: [] }],
    request: { params: CallIdParam, query: OutputsQuery },
    responses: { 200: cbor(wire.GetOutputsResponse, "Outputs after the cursor"), ...errorResponses },
  }),
  async (c) => {
    // The query first, then the path, as the validators did.
    const { cursor, waitMs } = checked(
      OutputsQuery,
      () => queryOf(c),
      () => quickOutputsQuery(c),
    );
    const { callId } = checked(
      CallIdParam,
      () => c.req.param(),
      () => quickCallId(c),
    );
    const result = await poolStubOfCall(c.env, callId).getOutputs(c.get("workspaceId"), callId, cursor ?? 0, waitMs ?? 0);
    if (!result.ok) throw fromPoolError(result.error);
    return bytesResponse(result.value);
  },
);

calls.openapi(
  createRoute({
    ...routeOf(ROUTES.getStream),
    summary: "A generator call's values from an index on (those below it count as read); waits up to waitMs for one",
    security: [{ bearer: [] }],
    request: {
      params: CallIdParam,
      query: z.object({
        from: queryInt(0, Number.MAX_SAFE_INTEGER).optional(),
        waitMs: queryInt(0, 60_000).optional(),
      }),
    },
    responses: { 200: cbor(wire.GetStreamResponse, "Values from the index on, and the call's end once every value is read"), ...errorResponses },
  }),
  async (c) => {
    const { callId } = c.req.valid("param");
    const { from, waitMs } = c.req.valid("query");
    const result = await poolStubOfCall(c.env, callId).readStream(c.get("workspaceId"), callId, from ?? 0, waitMs ?? 0);
    if (!result.ok) throw fromPoolError(result.error);
    return cborResponse(result.value);
  },
);

calls.openapi(
  createRoute({
    ...routeOf(ROUTES.getCallResults),
    summary: "The results of many spawned or remote calls at once; waits up to waitMs for the first",
    security: [{ bearer: [] }],
    request: { body: { ...cbor(wire.GetCallResultsRequest, "The calls to read"), required: true } },
    responses: { 200: cbor(wire.GetCallResultsResponse, "Finished calls' outputs, and the ids no call has"), ...errorResponses },
  }),
  async (c) => {
    const body = await readCbor(c, wire.GetCallResultsRequest);
    const byPool = new Map<string, string[]>();
    const missing: string[] = [];
    for (const callId of new Set(body.callIds)) {
      const pool = poolIdOfCall(callId);
      if (pool === null) missing.push(callId);
      else byPool.set(pool, [...(byPool.get(pool) ?? []), callId]);
    }
    const stubs = [...byPool.values()].map((ids) => {
      try {
        return { ids, stub: poolStubOfCall(c.env, ids[0]) };
      } catch {
        missing.push(...ids); // the right shape, but no pool of ours
        return null;
      }
    });
    const read = (waitMs: number) => stubs.flatMap((p) => (p ? [p.stub.readResults(c.get("workspaceId"), p.ids, waitMs)] : []));
    // Whatever is ready in every pool; only when nothing is, wait for the first result anywhere.
    let answers: PoolResults[] = await Promise.all(read(0));
    for (const answer of answers) missing.push(...answer.missing);
    if (body.waitMs && !answers.some((a) => a.results.length > 0)) answers = await untilFirstResults(read(body.waitMs));
    const response: GetCallResultsResponse = { results: [], missing };
    let bytes = 0;
    for (const answer of answers) {
      for (const r of answer.results) {
        // Past the budget the rest wait for the next read: they are still there.
        if (response.results.length > 0 && bytes + r.output.value.byteLength > MAX_RESULT_BYTES_PER_READ) continue;
        bytes += r.output.value.byteLength;
        response.results.push(r);
      }
    }
    return cborResponse(response);
  },
);

type PoolResults = Pick<GetCallResultsResponse, "results" | "missing">;

/**
 * Every pool's answer, or, as soon as one pool has results, the answers in so
 * far: a pool still waiting for its first result does not hold up the others'
 * (reading results takes nothing away, so what was not waited for is read next time).
 */
function untilFirstResults(reads: Array<Promise<PoolResults>>): Promise<PoolResults[]> {
  return new Promise((resolve, reject) => {
    const answers: PoolResults[] = [];
    let pending = reads.length;
    if (pending === 0) return resolve(answers);
    for (const read of reads) {
      read.then((answer) => {
        answers.push(answer);
        if (answer.results.length > 0 || --pending === 0) resolve(answers);
      }, reject);
    }
  });
}

calls.openapi(
  createRoute({
    ...routeOf(ROUTES.cancelCall),
    summary: "Cancel a call: its pending and running inputs end with InputCancellation",
    security: [{ bearer: [] }],
    request: { params: CallIdParam },
    responses: { 200: json(wire.CancelCallResponse, "Cancelled"), ...errorResponses },
  }),
  async (c) => {
    const { callId } = c.req.valid("param");
    const result = await poolStubOfCall(c.env, callId).cancelCall(c.get("workspaceId"), callId);
    if (!result.ok) throw fromPoolError(result.error);
    return c.json(result.value, 200);
  },
);

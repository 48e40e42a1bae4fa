// CBOR request and response bodies for the call routes (arguments and
// results are CBOR already; wrapping them in JSON would cost base64).
import type { Context } from "hono";
import type { z } from "@hono/zod-openapi";
import { CBOR_CONTENT_TYPE } from "../../sdk/src/wire/api";
import { encode, decode } from "../../sdk/src/wire/serialization";
import { ApiError, invalid } from "../control/errors";
import { describeZodError } from "../control/validation";
import { outputsCbor, type OutputsAnswer } from "./outputs-cbor";
import { decodeSimpleMap, knownKeys } from "../../sdk/src/wire/simple-cbor";

/** Keys every input and call body repeats. */
const CALL_BODY_KEYS = knownKeys(["idx", "args", "inputs", "closed", "kind", "method", "params", "variant", "waitMs", "requestId"]);

/**
 * The request's CBOR body as `schema` parses it, read by decodeSimpleMap
 * (sdk/src/wire/simple-cbor.ts) when it can and cbor-x otherwise. A `quick` check
 * (call-bodies.ts) may vouch for the body first; what it does not vouch for,
 * the schema decides.
 */
export async function readCbor<T>(c: Context, schema: z.ZodType<T>, quick?: (value: unknown) => T | null): Promise<T> {
  const type = c.req.header("content-type") ?? "";
  if (!type.startsWith(CBOR_CONTENT_TYPE)) {
    throw new ApiError("UNSUPPORTED_MEDIA_TYPE", `this route takes ${CBOR_CONTENT_TYPE} bodies, got ${JSON.stringify(type || "none")}`);
  }
  const raw = new Uint8Array(await c.req.arrayBuffer());
  let value: unknown;
  try {
    value = decodeSimpleMap(raw, CALL_BODY_KEYS) ?? decode(raw);
  } catch {
    throw invalid("the request body is not valid CBOR");
  }
  const vouched = quick?.(value);
  if (vouched !== undefined && vouched !== null) return vouched;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalid(describeZodError(parsed.error));
  return parsed.data;
}

export function cborResponse(value: unknown, status = 200): Response {
  return bytesResponse(encode(value), status);
}

/** A call's outputs (createCall's answer). */
export function outputsResponse(answer: OutputsAnswer): Response {
  return bytesResponse(outputsCbor(answer));
}

/** A CBOR body encoded already (getOutputs': by the pool). */
export function bytesResponse(bytes: Uint8Array, status = 200): Response {
  return new Response(bytes as BodyInit, { status, headers: { "content-type": CBOR_CONTENT_TYPE } });
}

// CBOR request and response bodies for the call routes (arguments and
// results are CBOR already; wrapping them in JSON would cost base64).
import type { Context } from "hono";
import type { z } from "@hono/zod-openapi";
import { CBOR_CONTENT_TYPE } from "../../sdk/src/wire/api";
import { encode, decode } from "../../sdk/src/wire/serialization";
import { ApiError, invalid } from "../control/errors";
import { describeZodError } from "../control/validation";

export async function readCbor<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const type = c.req.header("content-type") ?? "";
  if (!type.startsWith(CBOR_CONTENT_TYPE)) {
    throw new ApiError("UNSUPPORTED_MEDIA_TYPE", `this route takes ${CBOR_CONTENT_TYPE} bodies, got ${JSON.stringify(type || "none")}`);
  }
  const raw = new Uint8Array(await c.req.arrayBuffer());
  let value: unknown;
  try {
    value = decode(raw);
  } catch {
    throw invalid("the request body is not valid CBOR");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalid(describeZodError(parsed.error));
  return parsed.data;
}

export function cborResponse(value: unknown, status = 200): Response {
  return new Response(encode(value) as BodyInit, { status, headers: { "content-type": CBOR_CONTENT_TYPE } });
}

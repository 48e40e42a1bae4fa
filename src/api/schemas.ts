// Request and response schemas shared by the routes and the OpenAPI document.
import { z } from "@hono/zod-openapi";
import { InstanceParams } from "../control/validation";
import { CBOR_CONTENT_TYPE, type ErrorBody, type ErrorCode } from "../../sdk/src/wire/api";
import type { HttpMethod, Route } from "../../sdk/src/wire/routes";
import { MAX_VARIANT_LENGTH } from "../../sdk/src/wire/variant";

export const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "use 1 to 64 letters, digits, - or _, starting with a letter or digit");

const ERROR_CODES = [
  "INVALID_ARGUMENT",
  "UNAUTHENTICATED",
  "NOT_FOUND",
  "CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "RESOURCE_EXHAUSTED",
  "INTERNAL",
  "UNAVAILABLE",
] as const satisfies readonly ErrorCode[];

export const ErrorSchema = z
  .object({ error: z.object({ code: z.enum(ERROR_CODES), message: z.string(), retryAfterMs: z.number().optional() }) })
  .openapi("Error") satisfies z.ZodType<ErrorBody>;

export const errorResponses = {
  400: { description: "Invalid request", content: { "application/json": { schema: ErrorSchema } } },
  401: { description: "Missing or invalid token", content: { "application/json": { schema: ErrorSchema } } },
  404: { description: "Not found (or not in your workspace)", content: { "application/json": { schema: ErrorSchema } } },
} as const;

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** A CBOR body: the schema documents its decoded value (byte strings as binary). */
export const cbor = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { [CBOR_CONTENT_TYPE]: { schema } },
});

/** A route of the shared table (sdk/src/wire/routes.ts) as createRoute takes it. */
export const routeOf = <P extends string>(route: Route<P>) => ({ method: ROUTER_METHOD[route.method], path: route.path });

const ROUTER_METHOD = { GET: "get", POST: "post", PATCH: "patch", DELETE: "delete" } as const satisfies Record<HttpMethod, string>;

const WHOLE_NUMBER = /^\d{1,16}$/;

/**
 * A whole number in a query string: decimal digits only. Number() would also
 * take "", "0x10", "1e3" and " 7 ", so z.coerce alone lets malformed queries through.
 */
export const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(WHOLE_NUMBER, "must be a whole number in decimal digits")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .openapi({ type: "integer", minimum: min, maximum: max });

/** A query value (absent: undefined) as `queryInt(min, max)` takes it, checked by hand on the hot routes (hot-route.ts); null when it is not one. */
export function quickQueryInt(values: string[] | undefined, min: number, max: number): number | undefined | null {
  if (values === undefined) return undefined;
  if (values.length !== 1 || !WHOLE_NUMBER.test(values[0])) return null;
  const n = Number(values[0]);
  return n >= min && n <= max ? n : null;
}

export const FunctionIdParam = z.object({ functionId: z.string().max(64) });
export const MAX_CALL_ID_LENGTH = 200;
export const CallIdParam = z.object({ callId: z.string().max(MAX_CALL_ID_LENGTH) });
/**
 * Routes about one class instance take `?params=<base64url of CBOR params>`;
 * about one variant, `?variant=<its canonical options>` (checked by control/pools.ts).
 */
export const InstanceQuery = z.object({ params: InstanceParams.optional(), variant: z.string().max(MAX_VARIANT_LENGTH).optional() });

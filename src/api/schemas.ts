// Request and response schemas shared by the routes and the OpenAPI document.
import { z } from "@hono/zod-openapi";
import { InstanceParams } from "../control/validation";

export const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "use 1 to 64 letters, digits, - or _, starting with a letter or digit");

export const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), retryAfterMs: z.number().optional() }) })
  .openapi("Error");

export const errorResponses = {
  400: { description: "Invalid request", content: { "application/json": { schema: ErrorSchema } } },
  401: { description: "Missing or invalid token", content: { "application/json": { schema: ErrorSchema } } },
  404: { description: "Not found (or not in your workspace)", content: { "application/json": { schema: ErrorSchema } } },
} as const;

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const cbor = (description: string) => ({
  description,
  content: { "application/cbor": { schema: z.any().openapi({ type: "string", format: "binary" }) } },
});

/**
 * A whole number in a query string: decimal digits only. Number() would also
 * take "", "0x10", "1e3" and " 7 ", so z.coerce alone lets malformed queries through.
 */
export const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/, "must be a whole number in decimal digits")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .openapi({ type: "integer", minimum: min, maximum: max });

export const FunctionIdParam = z.object({ functionId: z.string().max(64) });
export const CallIdParam = z.object({ callId: z.string().max(200) });
/** Routes about one class instance take `?params=<base64url of CBOR params>`. */
export const InstanceQuery = z.object({ params: InstanceParams.optional() });

export const InputItemSchema = z.object({
  idx: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  args: z.instanceof(Uint8Array),
});

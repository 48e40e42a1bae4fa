// Request values checked with zod, and zod's findings as one sentence.
import { z } from "@hono/zod-openapi";
import { base64urlToBytes, bytesToBase64url } from "../../sdk/src/wire/base64url";
import { invalid, notFound } from "./errors";

/** A validation failure as one sentence naming the field. */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid request";
  const path = issue.path.length ? issue.path.map(String).join(".") : "body";
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problems)` : "";
  return `${path}: ${issue.message}${more}`;
}

/**
 * Class instance params: base64url of their CBOR. The instance's pool is named
 * by this text, so it is re-encoded from its bytes: "AA", "AB" and "AP" all
 * decode to one byte and must name one pool.
 */
export const InstanceParams = z
  .string()
  .min(1)
  .max(8_192)
  .regex(/^[A-Za-z0-9_-]*$/, "must be base64url")
  .transform((text, ctx) => {
    try {
      return bytesToBase64url(base64urlToBytes(text));
    } catch {
      ctx.addIssue({ code: "custom", message: "must be base64url" });
      return z.NEVER;
    }
  });

const InstanceQuery = z.object({ params: InstanceParams.optional() });

/** The `params` a request names a class instance by, in its canonical spelling (null: none given); 400 for bad params. */
export function instanceParamsOf(raw: string | undefined): string | null {
  const query = InstanceQuery.safeParse({ params: raw });
  if (!query.success) throw invalid(describeZodError(query.error));
  return query.data.params ?? null;
}

/** The method a call names, checked against the function: none for a function, one of its methods for a class. */
export function checkMethod(r: { fn: { kind: "function" | "class"; name: string; methods: readonly string[] } }, method: string | undefined): string | null {
  if (r.fn.kind === "function") {
    if (method !== undefined) throw invalid(`${r.fn.name} is a function: it has no method ${JSON.stringify(method)}`);
    return null;
  }
  const methods = r.fn.methods;
  if (method === undefined) throw invalid(`${r.fn.name} is a class: name the method to call (one of ${methods.join(", ")})`);
  if (!methods.includes(method)) throw notFound(`class ${r.fn.name} has no method ${JSON.stringify(method)} (methods: ${methods.join(", ")})`);
  return method;
}

/** The value `schema` parses: `quick`'s answer when it vouches, else the schema's (or its 400, naming the field). */
export function checked<T>(schema: z.ZodType<T>, value: () => unknown, quick: () => T | null): T {
  const vouched = quick();
  if (vouched !== null) return vouched;
  const parsed = schema.safeParse(value());
  if (!parsed.success) throw invalid(describeZodError(parsed.error));
  return parsed.data;
}

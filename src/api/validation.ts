import type { z } from "@hono/zod-openapi";

/** A validation failure as one sentence naming the field. */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid request";
  const path = issue.path.length ? issue.path.map(String).join(".") : "body";
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problems)` : "";
  return `${path}: ${issue.message}${more}`;
}

// One JSON error shape for every failure: { error: { code, message } }.
import type { ErrorBody } from "../../sdk/src/wire/api";
import type { ApiError } from "../control/errors";

export function errorResponse(err: ApiError): Response {
  const body: ErrorBody = { error: { code: err.code, message: err.message } };
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (err.retryAfterMs !== undefined) {
    body.error.retryAfterMs = err.retryAfterMs;
    headers["retry-after"] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
  }
  return new Response(JSON.stringify(body), { status: err.status, headers });
}

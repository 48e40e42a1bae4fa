// One JSON error shape for every failure: { error: { code, message } }.
import type { ErrorCode, ErrorBody } from "../../sdk/src/wire/api";
import type { PoolError } from "../pool/config";

const STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

export class ApiError extends Error {
  constructor(readonly code: ErrorCode, message: string, readonly retryAfterMs?: number) {
    super(message);
  }
  get status(): number {
    return STATUS[this.code];
  }
}

export const notFound = (message: string): ApiError => new ApiError("NOT_FOUND", message);
export const invalid = (message: string): ApiError => new ApiError("INVALID_ARGUMENT", message);

export function fromPoolError(e: PoolError): ApiError {
  return new ApiError(e.code, e.message, e.retryAfterMs);
}

export function errorResponse(err: ApiError): Response {
  const body: ErrorBody = { error: { code: err.code, message: err.message } };
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (err.retryAfterMs !== undefined) {
    body.error.retryAfterMs = err.retryAfterMs;
    headers["retry-after"] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
  }
  return new Response(JSON.stringify(body), { status: err.status, headers });
}

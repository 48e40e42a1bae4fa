// Failures of the control layer and the API, each with the code the API answers with
// (the HTTP status and JSON shape are the API's business: src/api/errors.ts).
import type { ErrorCode } from "../../sdk/src/wire/api";
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
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterMs?: number,
  ) {
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

// The errors a Squall user can catch (README "Errors callers receive"). Every API error maps to one.
import type { ErrorCode } from "./wire/api.js";

export class SquallError extends Error {
  override name = "SquallError";
}

/** An app, function, class or call that does not exist (or is not yours). */
export class NotFoundError extends SquallError {
  override name = "NotFoundError";
}

/** A request the platform refuses as malformed: bad options, arguments that do not serialize, … */
export class InvalidError extends SquallError {
  override name = "InvalidError";
}

/** A missing, wrong or revoked token. */
export class AuthError extends SquallError {
  override name = "AuthError";
}

/** A limit was hit; try again after `retryAfterMs`. */
export class ResourceExhaustedError extends SquallError {
  override name = "ResourceExhaustedError";
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** An input ran longer than the function's `timeoutMs`. */
export class FunctionTimeoutError extends SquallError {
  override name = "FunctionTimeoutError";
}

/** The input was cancelled (`FunctionCall.cancel()` or `squall app stop`). */
export class InputCancellation extends SquallError {
  override name = "InputCancellation";
}

/** What a map with `returnExceptions` yields for an input whose code threw (unless `wrapReturnedExceptions: false`); `cause` is the remote error, rebuilt. */
export class UserCodeException extends SquallError {
  override name = "UserCodeException";
  constructor(message: string, options: { cause: Error }) {
    super(message, options);
  }
}

/** A platform-side failure (a container that could not start, an unexpected server error). */
export class RemoteError extends SquallError {
  override name = "RemoteError";
}

/** Builds the error for an API error response. */
export function errorFromApi(status: number, code: ErrorCode | undefined, message: string, retryAfterMs?: number): SquallError {
  switch (code) {
    case "NOT_FOUND":
      return new NotFoundError(message);
    case "UNAUTHENTICATED":
      return new AuthError(message);
    case "INVALID_ARGUMENT":
    case "PAYLOAD_TOO_LARGE":
    case "UNSUPPORTED_MEDIA_TYPE":
    case "CONFLICT":
      return new InvalidError(message);
    case "RESOURCE_EXHAUSTED":
      return new ResourceExhaustedError(message, retryAfterMs ?? 1_000);
    default:
      if (status === 401) return new AuthError(message);
      if (status === 404) return new NotFoundError(message);
      return new RemoteError(`${message} (HTTP ${status})`);
  }
}

// Errors the container host answers with, in the API's one error shape.
import type { ErrorBody, ErrorCode } from "../wire/api.js";

export class HostError extends Error {
  constructor(readonly status: number, readonly code: ErrorCode, message: string) {
    super(message);
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

/** The runner could not bind its port (another process took it after it was picked): try another. */
export class PortTakenError extends HostError {}

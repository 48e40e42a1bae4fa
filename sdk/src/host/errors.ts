// Errors the container host answers with, in the API's one error shape.
import type { ErrorBody, ErrorCode } from "../wire/api.js";
import { CONTAINER_FAILED_STATUS } from "../wire/host.js";

export class HostError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }) } };
  }
}

/** The runner itself failed to start (exited before listening, or never listened): the container's failure, not the host's. */
export class ContainerFailedError extends HostError {
  constructor(message: string) {
    super(CONTAINER_FAILED_STATUS, "INTERNAL", message);
  }
}

/** The runner could not bind its port (another process took it after it was picked): try another. */
export class PortTakenError extends HostError {
  constructor(message: string) {
    super(500, "INTERNAL", message);
  }
}

// How a pool gets containers (docs/architecture.md "Compute backends"). Production runs
// each container as a Cloudflare Container (one Runner DO per container);
// locally the container host runs each as a Node process. Same runner code.

export interface ComputeBackend {
  /**
   * Starts container `id` running the runner with `env`, and resolves once
   * its port accepts connections. Throws CapacityError when the platform has
   * no room right now, ContainerFailedError when the container itself failed
   * (its process exited before listening, or never listened); anything else
   * it throws is the platform's failure.
   */
  start(id: string, env: Record<string, string>): Promise<void>;
  /** Stops container `id`; resolves when it is gone. Stopping an unknown container is not an error. */
  stop(id: string): Promise<void>;
  /** Opens the pool <-> runner WebSocket (docs/architecture.md "The runner protocol"), already accepted. */
  connect(id: string, secret: string): Promise<WebSocket>;
  /** Why a container went away, when the backend knows (e.g. "exited with code 1"). */
  describeExit(id: string): Promise<string | null>;
}

/** The platform has no container capacity now; try again after `retryAfterMs`. */
export class CapacityError extends Error {
  override name = "CapacityError";
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/**
 * The container itself failed to start: its process exited before it
 * listened, or never listened. Unlike the platform's failures (no room,
 * unreachable, a dropped connection), these count toward the pool's
 * start-failure breaker: they say the bundle or its image is broken.
 */
export class ContainerFailedError extends Error {
  override name = "ContainerFailedError";
}

// The local container host's HTTP API (docs/architecture.md "Compute backends"):
// a Node server that runs one runner process per container.
export interface StartContainerRequest {
  id: string;
  /** Environment of the runner process (SQUALL_CONTAINER_ID, SQUALL_CONTAINER_SECRET, ...). */
  env: Record<string, string>;
}

export interface HostedContainer {
  id: string;
  pid: number;
  /** The runner's port on 127.0.0.1. */
  port: number;
  state: "running" | "exited";
  exitCode: number | null;
  signal: string | null;
  startedAt: number;
}

// POST   /containers          StartContainerRequest -> 201 HostedContainer (once the runner listens);
//                              429 RESOURCE_EXHAUSTED with retryAfterMs (and Retry-After) when the host is full;
//                              CONTAINER_FAILED_STATUS when the runner exited before listening or never listened
// DELETE /containers/:id      -> 200 HostedContainer (SIGTERM, SIGKILL after a grace period)
// GET    /containers          -> { containers: HostedContainer[] }
// GET    /containers/:id      -> HostedContainer, or 404
// GET    /healthz             -> HostHealth
/**
 * The status of a start that failed because of the runner itself (it exited
 * before listening, or never listened): the container's failure, which counts
 * toward a pool's start-failure breaker. Any other failure is the host's.
 */
export const CONTAINER_FAILED_STATUS = 502;

/** Env var: how many containers a local host runs at once (default from the machine's cores and memory). */
export const MAX_CONTAINERS_ENV = "SQUALL_LOCAL_MAX_CONTAINERS";
/** Env var: how many containers a local host starts at once. */
export const MAX_STARTS_ENV = "SQUALL_LOCAL_MAX_STARTS";

export interface HostHealth {
  ok: true;
  /** Containers running or starting at once, and starts in progress at once; past either a start gets 429. */
  limits: { maxContainers: number; maxStarts: number };
}

export interface ListContainersResponse {
  containers: HostedContainer[];
}

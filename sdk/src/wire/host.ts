// The local container host's HTTP API (DESIGN §2 "ComputeBackend", local):
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

// POST   /containers          StartContainerRequest -> 201 HostedContainer (once the runner listens)
// DELETE /containers/:id      -> 200 HostedContainer (SIGTERM, SIGKILL after a grace period)
// GET    /containers          -> { containers: HostedContainer[] }
// GET    /containers/:id      -> HostedContainer, or 404
// GET    /healthz             -> { ok: true }
export interface ListContainersResponse {
  containers: HostedContainer[];
}

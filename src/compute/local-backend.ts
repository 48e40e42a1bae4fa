// Local ComputeBackend: the container host (sdk/src/host) runs each
// container as a runner process on 127.0.0.1 (docs/architecture.md "Compute backends").
import { ContainerFailedError, type ComputeBackend } from "./backend";
import { capacityError } from "./capacity-errors";
import { CONTAINER_FAILED_STATUS, type HostedContainer } from "../../sdk/src/wire/host";
import { RUNNER_CONNECT_PATH } from "../../sdk/src/wire/protocol";

/** When a full host names no retry-after: about one runner start. */
const HOST_RETRY_AFTER_MS = 1_000;

export class LocalBackend implements ComputeBackend {
  /** Ports of containers this pool started; after an eviction they are asked for again. */
  private readonly ports = new Map<string, number>();

  constructor(private readonly hostUrl: string) {
    if (!hostUrl) throw new Error("COMPUTE_BACKEND is local but LOCAL_CONTAINER_HOST_URL is not set (start the platform with `npm run dev`)");
  }

  async start(id: string, env: Record<string, string>): Promise<void> {
    const res = await this.host("POST", "/containers", { id, env });
    if (!res.ok) {
      const { message, retryAfterMs } = await errorOf(res);
      if (res.status === 429 || res.status === 503) throw capacityError(message, retryAfterMs ?? HOST_RETRY_AFTER_MS);
      if (res.status === CONTAINER_FAILED_STATUS) throw new ContainerFailedError(`container ${id} failed to start: ${message}`);
      throw new Error(`local container host could not start container ${id}: ${message}`);
    }
    const container = (await res.json()) as HostedContainer;
    this.ports.set(id, container.port);
  }

  async stop(id: string): Promise<void> {
    this.ports.delete(id);
    const res = await this.host("DELETE", `/containers/${encodeURIComponent(id)}`);
    if (!res.ok && res.status !== 404) throw new Error(`local container host could not stop container ${id}: ${await errorText(res)}`);
    await res.body?.cancel();
  }

  async connect(id: string, secret: string): Promise<WebSocket> {
    const port = this.ports.get(id) ?? (await this.describe(id))?.port;
    if (!port) throw new Error(`container ${id} is not running on the local container host`);
    const res = await fetch(`http://127.0.0.1:${port}${RUNNER_CONNECT_PATH}`, {
      headers: { Upgrade: "websocket", Authorization: `Bearer ${secret}` },
    });
    const ws = res.webSocket;
    if (!ws) throw new Error(`runner of container ${id} refused the connection: HTTP ${res.status} ${await errorText(res)}`);
    ws.accept();
    return ws;
  }

  async describeExit(id: string): Promise<string | null> {
    const c = await this.describe(id);
    if (!c || c.state !== "exited") return null;
    return c.signal ? `killed by ${c.signal}` : `exited with code ${c.exitCode}`;
  }

  private async describe(id: string): Promise<HostedContainer | null> {
    const res = await this.host("GET", `/containers/${encodeURIComponent(id)}`);
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    return (await res.json()) as HostedContainer;
  }

  private async host(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`${this.hostUrl}${path}`, {
        method,
        headers: body === undefined ? undefined : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new Error(`local container host at ${this.hostUrl} is not reachable (${(err as Error).message}); is \`npm run dev\` running?`);
    }
  }
}

async function errorText(res: Response): Promise<string> {
  return (await errorOf(res)).message;
}

async function errorOf(res: Response): Promise<{ message: string; retryAfterMs?: number }> {
  const text = await res.text().catch(() => "");
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string; retryAfterMs?: unknown } };
    const retryAfterMs = parsed.error?.retryAfterMs;
    return { message: parsed.error?.message ?? text, retryAfterMs: typeof retryAfterMs === "number" ? retryAfterMs : undefined };
  } catch {
    return { message: text.slice(0, 500) };
  }
}

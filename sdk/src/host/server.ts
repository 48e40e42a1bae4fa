// The container host's HTTP API (sdk/src/wire/host.ts), JSON in and out.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { HostHealth, ListContainersResponse, StartContainerRequest } from "../wire/host.js";
import type { ContainerSet } from "./containers.js";
import { HostError } from "./errors.js";

/** A start request is an id and some env vars; anything near this size is a mistake. */
const MAX_BODY_BYTES = 1024 * 1024;
/** Container ids travel in URL paths and log prefixes: keep them to safe characters. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function createHostServer(containers: ContainerSet): Server {
  return createServer((req, res) => {
    route(containers, req)
      .then(([status, body]) => send(res, status, body))
      .catch((err: unknown) => {
        const e = err instanceof HostError ? err : new HostError(500, "INTERNAL", (err as Error).message ?? String(err));
        send(res, e.status, e.body(), e.retryAfterMs);
      });
  });
}

async function route(containers: ContainerSet, req: IncomingMessage): Promise<[number, unknown]> {
  const path = new URL(req.url ?? "/", "http://host").pathname;
  const method = req.method ?? "GET";
  if (method === "GET" && path === "/healthz") return [200, { ok: true, limits: containers.limits } satisfies HostHealth];
  if (path === "/containers") {
    if (method === "GET") return [200, { containers: containers.list() } satisfies ListContainersResponse];
    if (method === "POST") return [201, await containers.start(parseStartRequest(await readJson(req)))];
  }
  const match = /^\/containers\/([^/]+)$/.exec(path);
  if (match) {
    const id = decodeURIComponent(match[1]);
    const found = method === "GET" ? containers.get(id) : method === "DELETE" ? await containers.stop(id) : undefined;
    if (found === null) throw new HostError(404, "NOT_FOUND", `no container ${id}`);
    if (found) return [200, found];
  }
  throw new HostError(404, "NOT_FOUND", `no route ${method} ${path}`);
}

function parseStartRequest(body: unknown): StartContainerRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw invalid("the body must be a JSON object");
  const { id, env } = body as Record<string, unknown>;
  if (typeof id !== "string" || !ID_PATTERN.test(id)) throw invalid("id must be a string of 1-200 letters, digits, '.', '_', ':' or '-'");
  if (typeof env !== "object" || env === null || Array.isArray(env)) throw invalid("env must be an object of strings");
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME_PATTERN.test(name)) throw invalid(`env name ${JSON.stringify(name)} is not a valid variable name`);
    if (typeof value !== "string" || value.includes("\0")) throw invalid(`env.${name} must be a string without NUL characters`);
  }
  return { id, env: env as Record<string, string> };
}

function invalid(message: string): HostError {
  return new HostError(400, "INVALID_ARGUMENT", message);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) throw new HostError(413, "PAYLOAD_TOO_LARGE", `the body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw invalid("the body is not valid JSON");
  }
}

function send(res: ServerResponse, status: number, body: unknown, retryAfterMs?: number): void {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (retryAfterMs !== undefined) headers["retry-after"] = String(Math.ceil(retryAfterMs / 1000));
  res.writeHead(status, headers).end(JSON.stringify(body));
}

// The runner's HTTP face: a health check for whoever starts the container,
// and the authenticated WebSocket the pool talks to.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { createHash, timingSafeEqual } from "node:crypto";
import { WebSocketServer } from "ws";
import { RUNNER_CONNECT_PATH, RUNNER_HEALTH_PATH } from "../wire/protocol.js";
import type { RunnerSession } from "./session.js";

export interface RunnerServerOptions {
  port: number;
  /** The interface to listen on: every one in a container (reached from outside it), 127.0.0.1 under the local host. */
  listenHost: string;
  containerId: string;
  secret: string;
  session: RunnerSession;
}

/** Resolves once listening. */
export function startRunnerServer(options: RunnerServerOptions): Promise<Server> {
  const { containerId, secret, session } = options;
  const wss = new WebSocketServer({ noServer: true });
  const server = createServer((req, res) => {
    const path = pathOf(req);
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (req.method === "GET" && path === RUNNER_HEALTH_PATH) return json(200, { ok: true, containerId });
    if (path === RUNNER_CONNECT_PATH) return json(426, { error: { code: "INVALID_ARGUMENT", message: "GET /connect is a WebSocket upgrade" } });
    json(404, { error: { code: "NOT_FOUND", message: `no route ${req.method} ${path}` } });
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    if (pathOf(req) !== RUNNER_CONNECT_PATH) return refuse(socket, 404, "Not Found");
    if (!authorized(req.headers.authorization, secret)) return refuse(socket, 401, "Unauthorized");
    if (!server.listening) return refuse(socket, 503, "Service Unavailable");
    wss.handleUpgrade(req, socket, head, (ws) => session.attach(ws));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.listenHost, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

function pathOf(req: IncomingMessage): string {
  return new URL(req.url ?? "/", "http://runner").pathname;
}

/** Constant-time check of `Bearer <secret>` (hashing first makes lengths equal). */
function authorized(header: string | undefined, secret: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  if (!match) return false;
  const digest = (s: string): Buffer => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(match[1].trim()), digest(secret));
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

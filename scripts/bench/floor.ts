// The floor of a `.remote()` on this machine's local runtime: the least a
// durable call through a Worker and a Durable Object can cost, with none of
// Squall's code in it. A hello-world Worker takes the POST, makes one RPC to
// a SQLite-backed Durable Object, which sends one WebSocket frame to a Node
// process that echoes it at once, and answers with the echo. Measured twice:
// as is, and with one row written before the frame is sent, so the frame
// waits for that write to commit (the output gate), as Squall's pool waits
// for a call and its input to be stored before a runner may run it.
//
// Then both again over a persistent channel: the client keeps one WebSocket
// open to the Durable Object (through the Worker once, at the upgrade) and
// sends each call as a frame on it, as BullMQ's client keeps its Redis
// connection. What the two differ by is what a fresh HTTP request, the
// Worker's invocation and the RPC cost per call on this runtime.
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import WebSocket, { WebSocketServer } from "ws";
import { ROOT, freePort } from "../platform";
import { percentile, round } from "./stats";

const WORKER = `
import { DurableObject } from "cloudflare:workers";
export class Pool extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS inputs (id INTEGER PRIMARY KEY, args BLOB NOT NULL)");
    this.nextId = 1;
    this.waiting = new Map();
    this.ws = null;
  }
  async connect(url) {
    if (this.ws) return;
    const res = await fetch(url, { headers: { Upgrade: "websocket" } });
    res.webSocket.accept();
    res.webSocket.addEventListener("message", (event) => {
      const id = Number(event.data);
      this.waiting.get(id)?.(id);
      this.waiting.delete(id);
    });
    this.ws = res.webSocket;
  }
  dispatch(durable, answer) {
    const id = this.nextId++;
    if (durable) this.ctx.storage.sql.exec("INSERT INTO inputs (id, args) VALUES (?, ?)", id, new Uint8Array(16));
    this.waiting.set(id, answer);
    this.ws.send(String(id));
  }
  async call(url, durable) {
    await this.connect(url);
    return await new Promise((resolve) => this.dispatch(durable, resolve));
  }
  async fetch(request) {
    const url = new URL(request.url);
    await this.connect(url.searchParams.get("echo"));
    const durable = url.pathname === "/channel/durable";
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener("message", (event) => this.dispatch(durable, () => server.send(event.data)));
    return new Response(null, { status: 101, webSocket: client });
  }
}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const pool = env.POOL.get(env.POOL.idFromName("floor"));
    if (url.pathname.startsWith("/channel/")) return pool.fetch(request);
    await request.arrayBuffer();
    return new Response(String(await pool.call(url.searchParams.get("echo"), url.pathname === "/durable")));
  },
};`;

export interface FloorResult {
  /** p50 ms: Worker → Durable Object RPC → WebSocket echo → answer. */
  echo: number;
  /** p50 ms: the same, with one row committed before the frame leaves. */
  durable: number;
  /** p50 ms: echo, each call a frame on one WebSocket the client keeps open to the Durable Object. */
  channelEcho: number;
  /** p50 ms: the same, with one row committed before the frame to the Node process leaves. */
  channelDurable: number;
}

export class PlatformFloor {
  private constructor(
    private readonly mf: Miniflare,
    private readonly echo: WebSocketServer,
    private readonly port: number,
    private readonly echoUrl: string,
    private readonly stateDir: string,
  ) {}

  /** Starts the floor Worker (on the platform's compatibility date) and the echo server. */
  static async start(): Promise<PlatformFloor> {
    const { compatibilityDate } = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml")).workerOptions;
    const echoPort = await freePort();
    const echo = new WebSocketServer({ host: "127.0.0.1", port: echoPort });
    await once(echo, "listening");
    echo.on("connection", (ws) => ws.on("message", (data: Buffer) => ws.send(data.toString())));
    const echoUrl = `http://127.0.0.1:${echoPort}/`;
    const port = await freePort();
    const stateDir = mkdtempSync(join(tmpdir(), "squall-floor-"));
    const mf = new Miniflare({
      modules: true,
      script: WORKER,
      compatibilityDate,
      host: "127.0.0.1",
      port: await freePort(),
      // Straight to the Worker, as scripts/local-worker.mjs serves the platform: no entry Worker in between.
      unsafeDirectSockets: [{ host: "127.0.0.1", port }],
      durableObjects: { POOL: { className: "Pool", useSQLite: true } },
      defaultPersistRoot: stateDir,
      log: new Log(LogLevel.WARN),
    });
    await mf.ready;
    return new PlatformFloor(mf, echo, port, echoUrl, stateDir);
  }

  /** p50 of `n` calls each way, one in flight, after `warmup` of each. */
  async measure(n: number, warmup: number): Promise<FloorResult> {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const p50 = async (call: () => Promise<void>): Promise<number> => {
      const samples: number[] = [];
      for (let i = 0; i < warmup + n; i++) {
        const t = performance.now();
        await call();
        if (i >= warmup) samples.push(performance.now() - t);
      }
      return round(percentile(samples, 50), 2);
    };
    try {
      return {
        echo: await p50(() => this.post(agent, "/echo")),
        durable: await p50(() => this.post(agent, "/durable")),
        channelEcho: await this.overChannel("/channel/echo", p50),
        channelDurable: await this.overChannel("/channel/durable", p50),
      };
    } finally {
      agent.destroy();
    }
  }

  /** `timed` over one WebSocket opened on `path`: each call a frame sent and its echo awaited. */
  private async overChannel(path: string, timed: (call: () => Promise<void>) => Promise<number>): Promise<number> {
    const ws = new WebSocket(`ws://127.0.0.1:${this.port}${path}?echo=${encodeURIComponent(this.echoUrl)}`);
    await once(ws, "open");
    try {
      return await timed(async () => {
        const echoed = once(ws, "message");
        ws.send("x");
        await echoed;
      });
    } finally {
      ws.close();
      await once(ws, "close");
    }
  }

  private post(agent: Agent, path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: this.port, path: `${path}?echo=${encodeURIComponent(this.echoUrl)}`, method: "POST", agent }, (res) => {
        res.resume();
        res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`the floor Worker answered HTTP ${res.statusCode}`))));
      });
      req.on("error", reject);
      req.end("x");
    });
  }

  async close(): Promise<void> {
    await this.mf.dispose();
    await new Promise<void>((resolve) => this.echo.close(() => resolve()));
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}

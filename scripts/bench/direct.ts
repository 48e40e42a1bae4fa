// The limit: the SDK's encoding talking straight to one runner process over
// the runner protocol (sdk/src/wire/protocol.ts), with no Worker, pool or
// HTTP in between — what the pool does for one container, minus everything
// else. The runner is the real one (sdk/dist/runner/main.js) running the
// same app bundle the platform runs.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import WebSocket from "ws";
import { ACK_INTERVAL_MS, MAX_PENDING_ACKS, type PoolToRunner, type RunnerOutput, type RunnerToPool } from "../../sdk/src/wire/protocol";
import { decode, encode } from "../../sdk/src/wire/serialization";
import { encodeArgs } from "../../sdk/src/calls";
import { inputsFrame, type FrameInput } from "../../src/pool/input-frames";
import { ROOT, freePort } from "../platform";
import { maxQueuedInputs } from "../../src/pool/prefetch";

const RUNNER = join(ROOT, "sdk", "dist", "runner", "main.js");

export class DirectRunner {
  private nextId = 1;
  private readonly pending = new Map<number, (o: RunnerOutput) => void>();
  private onOutputs: ((outputs: RunnerOutput[]) => void) | null = null;
  private acks: number[] = [];
  private ackTimer: ReturnType<typeof setTimeout> | null = null;

  private constructor(
    private readonly child: ChildProcess,
    private readonly ws: WebSocket,
    private readonly server: Server,
    readonly maxInputs: number,
  ) {
    ws.on("message", (data: Buffer) => {
      const m = decode<RunnerToPool>(data);
      if (m.t !== "outputs") return;
      if (this.onOutputs) this.onOutputs(m.outputs);
      for (const o of m.outputs) {
        const done = this.pending.get(o.id);
        if (done) {
          this.pending.delete(o.id);
          done(o);
        }
      }
      // As the pool does once it has stored them: a runner holds every output until it is acknowledged.
      this.acknowledge(m.outputs.map((o) => o.id));
    });
  }

  /** Starts a runner, serves it `bundle`, and initializes it for function `name` with `maxInputs` slots. */
  static async start(bundle: string, name: string, maxInputs: number): Promise<DirectRunner> {
    const server = createServer((req, res) => {
      if (req.url === "/bundle.mjs") res.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const bundleUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bundle.mjs`;
    const id = `direct-${randomBytes(4).toString("hex")}`;
    const secret = randomBytes(16).toString("hex");
    const port = await freePort();
    const child = spawn(process.execPath, [RUNNER], {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        SQUALL_CONTAINER_ID: id,
        SQUALL_CONTAINER_SECRET: secret,
        PORT: String(port),
        SQUALL_LISTEN_HOST: "127.0.0.1",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
      } catch {
        // not listening yet
      }
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the direct runner did not start:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const ws = new WebSocket(`ws://127.0.0.1:${port}/connect`, { headers: { authorization: `Bearer ${secret}` } });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    const answer = new Promise<RunnerToPool>((resolve) => {
      const onMessage = (data: Buffer): void => {
        const m = decode<RunnerToPool>(data);
        if (m.t === "ready" || m.t === "init_failed") {
          ws.off("message", onMessage);
          resolve(m);
        }
      };
      ws.on("message", onMessage);
    });
    const init: PoolToRunner = { t: "init", containerId: id, deploymentId: "bench", bundleUrl, target: { kind: "function", name }, maxInputs };
    ws.send(encode(init));
    const m = await answer;
    if (m.t === "init_failed") throw new Error(`the direct runner failed to initialize: ${m.error.message}`);
    return new DirectRunner(child, ws, server, maxInputs);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Acknowledges outputs as the pool does: together, one frame at most every ACK_INTERVAL_MS (sooner past MAX_PENDING_ACKS). */
  private acknowledge(ids: number[]): void {
    if (ids.length === 0) return;
    this.acks.push(...ids);
    if (this.acks.length >= MAX_PENDING_ACKS) return this.sendAcks();
    this.ackTimer ??= setTimeout(() => this.sendAcks(), ACK_INTERVAL_MS);
  }

  private sendAcks(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    const ids = this.acks;
    this.acks = [];
    if (ids.length > 0 && this.ws.readyState === WebSocket.OPEN) this.ws.send(encode({ t: "ack", ids } satisfies PoolToRunner));
  }

  /** One input, encoded as the SDK encodes it and framed as the pool frames it (input-frames.ts), and its decoded result. */
  async remote(x: unknown): Promise<unknown> {
    const id = this.nextId++;
    const output = new Promise<RunnerOutput>((resolve) => this.pending.set(id, resolve));
    this.ws.send(inputsFrame([{ id, method: null, args: encodeArgs("direct.remote()", [x]) }]));
    const o = await output;
    if (o.status !== "success") throw new Error(`direct input failed: ${JSON.stringify(decode(o.value))}`);
    return decode(o.value);
  }

  /**
   * Runs inputs 0..n-1 keeping at most as many at the runner as the pool
   * would (its maxInputs slots and the most it sends ahead of them,
   * prefetch.ts), topping up with one batch per outputs frame. Resolves with
   * the number of outputs once all are back.
   */
  map(n: number): Promise<number> {
    return new Promise((resolve, reject) => {
      let sent = 0;
      let done = 0;
      let inFlight = 0;
      const topUp = (): void => {
        const batch: FrameInput[] = [];
        while (sent < n && inFlight + batch.length < this.maxInputs + maxQueuedInputs(this.maxInputs)) {
          batch.push({ id: this.nextId++, method: null, args: encodeArgs("direct.map()", [sent]) });
          sent++;
        }
        inFlight += batch.length;
        if (batch.length) this.ws.send(inputsFrame(batch));
      };
      this.onOutputs = (outputs) => {
        for (const o of outputs) {
          decode(o.value);
          if (o.status !== "success") {
            this.onOutputs = null;
            return reject(new Error("a direct input failed"));
          }
        }
        done += outputs.length;
        inFlight -= outputs.length;
        if (done >= n) {
          this.onOutputs = null;
          return resolve(done);
        }
        topUp();
      };
      topUp();
    });
  }

  async close(): Promise<void> {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ws.close();
    this.child.kill("SIGTERM");
    await new Promise<void>((r) => (this.child.exitCode !== null ? r() : this.child.once("exit", () => r())));
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

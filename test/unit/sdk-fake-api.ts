// A small in-process stand-in for the Worker's API (sdk/src/wire/api.ts),
// enough to test the SDK and CLI against real HTTP: functions run here as
// plain JS, calls keep their outputs by seq, and faults can be injected.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type {
  AppManifest, CreateCallRequest, GetCallResultsRequest, GetCallResultsResponse, DeployRequest, DeployResponse, ErrorCode, FunctionInfo, FunctionStats, GetOutputsResponse, InputItem, OutputItem, OutputStatus,
} from "../../sdk/src/wire/api";
import { CBOR_CONTENT_TYPE, type StartsHeldBack } from "../../sdk/src/wire/api";
import { decode, encode, serializeError } from "../../sdk/src/wire/serialization";

export interface Invocation {
  args: unknown[];
  method?: string;
  params?: unknown;
  idx: number;
}

export type Impl = (inv: Invocation) => unknown;

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}

/** Throw this from an Impl to end the input with a status other than failure. */
export class FakeOutcome extends Error {
  constructor(readonly status: Exclude<OutputStatus, "success" | "failure">, message: string) {
    super(message);
  }
}

interface FakeFunctionDef {
  id: string;
  app: string;
  name: string;
  kind: "function" | "class";
  methods: string[];
}

interface FakeCall {
  id: string;
  fn: FakeFunctionDef;
  method?: string;
  params?: unknown;
  closed: boolean;
  cancelled: boolean;
  inputs: Set<number>;
  outputs: Array<OutputItem & { seq: number }>;
  done: Set<number>;
  waiters: Set<() => void>;
}

export class FakeApi {
  readonly token = "sq_test_token";
  url = "";
  readonly requests: RecordedRequest[] = [];
  readonly deployments: DeployRequest[] = [];
  readonly deletedApps: string[] = [];
  readonly cancelledCalls: string[] = [];
  readonly functions = new Map<string, FakeFunctionDef>();
  readonly calls = new Map<string, FakeCall>();
  readonly impls = new Map<string, Impl>();
  /** Longest any request may wait for outputs (keeps remote's long-poll path reachable). */
  maxWaitMs = 25_000;
  /** Answer the next N input-carrying requests (create call, put inputs, spawns) with 429. */
  rejectInputsWith429 = 0;
  /** Answer the input-carrying requests at these positions (1-based, counted from the start) with 429. */
  readonly rejectInputRequestsAt = new Set<number>();
  private inputRequests = 0;
  retryAfterMs = 50;
  /** Destroy the socket of the next N output polls that have outputs to return. */
  dropOutputPolls = 0;
  /** Answer the next N output polls that have outputs with the previous poll's outputs included again. */
  repeatOutputs = 0;
  /** Per map call: the most inputs ever admitted without an output yet. */
  readonly maxOutstanding = new Map<string, number>();
  /** Per call: how many times an already-admitted idx was sent again in an accepted request. */
  readonly duplicateInputs = new Map<string, number>();
  readonly stats: FunctionStats = {
    backlog: 3,
    runningInputs: 2,
    containers: { starting: 1, idle: 0, busy: 2, total: 3 },
    autoscaler: { minContainers: 0, maxContainers: null, bufferContainers: 0, scaledownWindowMs: 60_000 },
    startsHeldBack: null as StartsHeldBack | null,
  };
  readonly autoscalerUpdates: Array<{ functionId: string; params: string | null; body: unknown }> = [];
  private server: Server | null = null;
  private nextCall = 1;
  private lastPollStart = new Map<string, number>();

  /** Deploys `app` with these functions directly (no CLI), implemented by `impls`. */
  define(app: string, fns: Record<string, Impl>, classes: Record<string, { methods: string[]; impl: Impl }> = {}): void {
    for (const [name, impl] of Object.entries(fns)) {
      this.addFunction(app, name, "function", []);
      this.impls.set(name, impl);
    }
    for (const [name, c] of Object.entries(classes)) {
      this.addFunction(app, name, "class", c.methods);
      this.impls.set(name, c.impl);
    }
  }

  functionId(app: string, name: string): string {
    return `fn-${app}-${name}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => this.error(res, 500, "INTERNAL", String((err as Error).stack)));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const call of this.calls.values()) for (const wake of call.waiters) wake();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** How many input-carrying requests (create call, put inputs, spawns) came so far. */
  get inputRequestCount(): number {
    return this.inputRequests;
  }

  requestsTo(method: string, pattern: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && pattern.test(r.path));
  }

  private addFunction(app: string, name: string, kind: "function" | "class", methods: string[]): FakeFunctionDef {
    const def = { id: this.functionId(app, name), app, name, kind, methods };
    this.functions.set(def.id, def);
    return def;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, "http://fake");
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const type = req.headers["content-type"] ?? "";
    const body = raw.length === 0 ? undefined : type.startsWith(CBOR_CONTENT_TYPE) ? decode(new Uint8Array(raw)) : JSON.parse(raw.toString("utf8"));
    this.requests.push({ method: req.method!, path: url.pathname, query: url.searchParams, body });
    if (req.headers.authorization !== `Bearer ${this.token}`) return this.error(res, 401, "UNAUTHENTICATED", "invalid token");

    const parts = url.pathname.split("/").slice(2).map(decodeURIComponent); // after /v1
    const route = `${req.method} /${parts.map((p, i) => (i % 2 === 1 ? ":" : p)).join("/")}`;
    switch (route) {
      case "GET /apps":
        return this.json(res, 200, { apps: this.listApps() });
      case "POST /apps/:/deployments":
        return this.deploy(res, parts[1], body as DeployRequest);
      case "DELETE /apps/:":
        this.deletedApps.push(parts[1]);
        for (const [id, f] of this.functions) if (f.app === parts[1]) this.functions.delete(id);
        return this.json(res, 200, { appName: parts[1], deleted: true });
      case "POST /apps/:/stop":
        if (!this.listApps().some((a) => (a as { name: string }).name === parts[1])) return this.error(res, 404, "NOT_FOUND", `app ${parts[1]} not found`);
        return this.json(res, 200, { appName: parts[1], cancelledInputs: 4, stoppedContainers: 2 });
      case "GET /apps/:/functions/:": {
        const def = this.functions.get(this.functionId(parts[1], parts[3]));
        if (!def) return this.error(res, 404, "NOT_FOUND", `function ${parts[3]} not found in app ${parts[1]}`);
        return this.json(res, 200, this.info(def));
      }
      case "POST /tokens":
        return this.json(res, 201, { workspaceId: "ws_1", tokenId: "tok_2", token: "sq_new_token" });
      case "POST /functions/:/calls":
        return this.createCall(res, parts[1], body as CreateCallRequest);
      case "POST /functions/:/spawns":
        return this.spawn(res, parts[1], body as { inputs: InputItem[]; method?: string; params?: Uint8Array });
      case "GET /functions/:/stats":
        return this.json(res, 200, this.stats);
      case "PATCH /functions/:/autoscaler":
        this.autoscalerUpdates.push({ functionId: parts[1], params: url.searchParams.get("params"), body });
        Object.assign(this.stats.autoscaler, body);
        return this.json(res, 200, this.stats.autoscaler);
      case "POST /calls/:/inputs":
        return this.putInputs(res, parts[1], body as { inputs: InputItem[]; closed: boolean });
      case "GET /calls/:/outputs":
        return this.getOutputs(req, res, parts[1], Number(url.searchParams.get("cursor") ?? 0), Number(url.searchParams.get("waitMs") ?? 0));
      case "POST /calls/:/cancel":
        return this.cancel(res, parts[1]);
      case "POST /calls/:":
        if (parts[1] !== "outputs") return this.error(res, 404, "NOT_FOUND", `no route ${route}`);
        return this.readResults(res, body as GetCallResultsRequest);
      default:
        return this.error(res, 404, "NOT_FOUND", `no route ${route}`);
    }
  }

  private listApps(): unknown[] {
    const apps = new Map<string, string[]>();
    for (const f of this.functions.values()) apps.set(f.app, [...(apps.get(f.app) ?? []), f.name]);
    return [...apps].map(([name, functions]) => ({
      name, state: "deployed", ephemeral: false, version: 1, deploymentId: "dep_1", deployedAt: "2025-01-01T00:00:00.000Z", functions,
    }));
  }

  private deploy(res: ServerResponse, app: string, body: DeployRequest): void {
    this.deployments.push(body);
    const manifest: AppManifest = body.manifest;
    const functions = manifest.functions.map((f) => this.info(this.addFunction(app, f.name, f.kind, f.methods ?? []), f.options));
    const response: DeployResponse = { appName: app, deploymentId: `dep_${this.deployments.length}`, version: this.deployments.length, functions };
    this.json(res, 201, response);
  }

  private info(def: FakeFunctionDef, options: FunctionInfo["options"] = {}): FunctionInfo {
    return { functionId: def.id, appName: def.app, name: def.name, kind: def.kind, methods: def.methods, options };
  }

  private takeRejection(res: ServerResponse): boolean {
    const position = ++this.inputRequests;
    if (this.rejectInputsWith429 > 0) this.rejectInputsWith429--;
    else if (!this.rejectInputRequestsAt.delete(position)) return false;
    this.error(res, 429, "RESOURCE_EXHAUSTED", "too many pending inputs", this.retryAfterMs);
    return true;
  }

  private async createCall(res: ServerResponse, functionId: string, body: CreateCallRequest): Promise<void> {
    const fn = this.functions.get(functionId);
    if (!fn) return this.error(res, 404, "NOT_FOUND", "function not found");
    if (this.takeRejection(res)) return;
    const call = this.newCall(fn, body.method, body.params);
    this.admit(call, body.inputs, body.closed);
    if (body.waitMs) await this.waitForOutputs(call, 0, Math.min(body.waitMs, this.maxWaitMs));
    this.cbor(res, { callId: call.id, ...this.outputsAfter(call, 0) });
  }

  private spawn(res: ServerResponse, functionId: string, body: { inputs: InputItem[]; method?: string; params?: Uint8Array }): void {
    const fn = this.functions.get(functionId);
    if (!fn) return this.error(res, 404, "NOT_FOUND", "function not found");
    if (this.takeRejection(res)) return;
    const callIds = body.inputs.map((input) => {
      const call = this.newCall(fn, body.method, body.params);
      this.admit(call, [{ idx: 0, args: input.args }], true);
      return call.id;
    });
    this.cbor(res, { callIds });
  }

  private putInputs(res: ServerResponse, callId: string, body: { inputs: InputItem[]; closed: boolean }): void {
    const call = this.calls.get(callId);
    if (!call) return this.error(res, 404, "NOT_FOUND", "call not found");
    if (this.takeRejection(res)) return;
    this.admit(call, body.inputs, body.closed);
    this.cbor(res, { admitted: body.inputs.length });
  }

  private async getOutputs(req: IncomingMessage, res: ServerResponse, callId: string, cursor: number, waitMs: number): Promise<void> {
    const call = this.calls.get(callId);
    if (!call) return this.error(res, 404, "NOT_FOUND", "call not found");
    await this.waitForOutputs(call, cursor, Math.min(waitMs, this.maxWaitMs));
    let from = cursor;
    if (this.outputsAfter(call, cursor).outputs.length > 0) {
      if (this.dropOutputPolls > 0) {
        this.dropOutputPolls--;
        req.socket.destroy();
        return;
      }
      if (this.repeatOutputs > 0 && this.lastPollStart.has(callId)) {
        this.repeatOutputs--;
        from = this.lastPollStart.get(callId)!;
      }
    }
    this.lastPollStart.set(callId, cursor);
    this.cbor(res, this.outputsAfter(call, from));
  }

  private async readResults(res: ServerResponse, body: GetCallResultsRequest): Promise<void> {
    const ids = [...new Set(body.callIds)];
    const missing = ids.filter((id) => !this.calls.has(id));
    const known = ids.filter((id) => this.calls.has(id)).map((id) => this.calls.get(id)!);
    const firstOutputs = (): GetCallResultsResponse["results"] =>
      known.flatMap((call) => call.outputs.filter((o) => o.idx === 0).map(({ idx, status, value }) => ({ callId: call.id, output: { idx, status, value } })));
    const waitMs = Math.min(body.waitMs ?? 0, this.maxWaitMs);
    if (firstOutputs().length === 0 && known.length > 0 && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          if (firstOutputs().length === 0) return;
          clearTimeout(timer);
          for (const call of known) call.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(() => {
          for (const call of known) call.waiters.delete(wake);
          resolve();
        }, waitMs);
        for (const call of known) call.waiters.add(wake);
      });
    }
    this.cbor(res, { results: firstOutputs(), missing } satisfies GetCallResultsResponse);
  }

  private cancel(res: ServerResponse, callId: string): void {
    const call = this.calls.get(callId);
    if (!call) return this.error(res, 404, "NOT_FOUND", "call not found");
    this.cancelledCalls.push(callId);
    call.cancelled = true;
    call.closed = true;
    let cancelled = 0;
    for (const idx of call.inputs) {
      if (!call.done.has(idx)) {
        this.output(call, idx, "cancelled", encode(serializeError(new Error("the call was cancelled"))));
        cancelled++;
      }
    }
    this.json(res, 200, { cancelledInputs: cancelled });
  }

  private newCall(fn: FakeFunctionDef, method?: string, params?: Uint8Array): FakeCall {
    const call: FakeCall = {
      id: `call-${this.nextCall++}`, fn, method, params: params ? decode(params) : undefined,
      closed: false, cancelled: false, inputs: new Set(), outputs: [], done: new Set(), waiters: new Set(),
    };
    this.calls.set(call.id, call);
    return call;
  }

  /** Admits inputs once each by idx (a resent batch is not added twice) and runs them. */
  private admit(call: FakeCall, inputs: InputItem[], closed: boolean): void {
    for (const input of inputs) {
      if (call.inputs.has(input.idx)) {
        this.duplicateInputs.set(call.id, (this.duplicateInputs.get(call.id) ?? 0) + 1);
        continue;
      }
      call.inputs.add(input.idx);
      void this.run(call, input.idx, decode<unknown[]>(input.args));
    }
    call.closed ||= closed;
    const outstanding = call.inputs.size - call.done.size;
    this.maxOutstanding.set(call.id, Math.max(this.maxOutstanding.get(call.id) ?? 0, outstanding));
    this.wake(call);
  }

  private async run(call: FakeCall, idx: number, args: unknown[]): Promise<void> {
    const impl = this.impls.get(call.fn.name);
    let status: OutputStatus = "success";
    let value: Uint8Array;
    try {
      if (!impl) throw new Error(`the fake has no implementation for ${call.fn.name}`);
      value = encode(await impl({ args, idx, method: call.method, params: call.params }));
    } catch (err) {
      status = err instanceof FakeOutcome ? err.status : "failure";
      value = encode(serializeError(err));
    }
    if (!call.cancelled) this.output(call, idx, status, value);
  }

  private output(call: FakeCall, idx: number, status: OutputStatus, value: Uint8Array): void {
    if (call.done.has(idx)) return;
    call.done.add(idx);
    call.outputs.push({ seq: call.outputs.length + 1, idx, status, value });
    this.wake(call);
  }

  private outputsAfter(call: FakeCall, cursor: number): GetOutputsResponse {
    const outputs = call.outputs.slice(cursor, cursor + 1_000); // seq n sits at index n - 1
    const last = outputs.length ? outputs[outputs.length - 1].seq : cursor;
    const done = call.closed && call.done.size === call.inputs.size && last >= call.outputs.length;
    return { outputs: outputs.map(({ idx, status, value }) => ({ idx, status, value })), cursor: last, done };
  }

  private waitForOutputs(call: FakeCall, cursor: number, waitMs: number): Promise<void> {
    const ready = (): boolean => call.outputs.length > cursor || this.outputsAfter(call, cursor).done;
    if (ready() || waitMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        if (!ready() && Date.now() < deadline) return;
        clearTimeout(timer);
        call.waiters.delete(wake);
        resolve();
      };
      const deadline = Date.now() + waitMs;
      const timer = setTimeout(() => {
        call.waiters.delete(wake);
        resolve();
      }, waitMs);
      call.waiters.add(wake);
    });
  }

  private wake(call: FakeCall): void {
    for (const wake of [...call.waiters]) wake();
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  }

  private cbor(res: ServerResponse, body: unknown): void {
    res.writeHead(200, { "content-type": CBOR_CONTENT_TYPE }).end(encode(body));
  }

  private error(res: ServerResponse, status: number, code: ErrorCode, message: string, retryAfterMs?: number): void {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (retryAfterMs !== undefined) headers["retry-after"] = String(Math.ceil(retryAfterMs / 1000));
    res.writeHead(status, headers).end(JSON.stringify({ error: { code, message, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) } }));
  }
}

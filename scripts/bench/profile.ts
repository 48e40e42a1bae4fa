// Where an input's time goes: CPU time per process (from /proc), and a
// V8 CPU profile of the Worker + FunctionPool isolate taken through its
// inspector (the DevTools protocol on the --inspector-port that both
// scripts/local-worker.mjs and `wrangler dev` take).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import WebSocket from "ws";

/** utime + stime of a process in ms (0 if it is gone). */
export function cpuMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
  } catch {
    return 0;
  }
}

function processes(): Array<{ pid: number; args: string }> {
  return execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" })
    .split("\n")
    .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), args: m[2] }));
}

/** The workerd processes (the Worker, its Durable Objects, D1 and the queue all run in them). */
export function workerdPids(): number[] {
  return processes()
    .filter((p) => /\bworkerd\b/.test(p.args) && !p.args.includes("ps -eo"))
    .map((p) => p.pid);
}

/** Sums the CPU time of groups of processes between start() and stop() (processes that came or went in between are left out). */
export class CpuMeter {
  private before = new Map<string, Map<number, number>>();
  constructor(private readonly groups: Record<string, () => number[]>) {}

  private sample(): Map<string, Map<number, number>> {
    const out = new Map<string, Map<number, number>>();
    for (const [name, pids] of Object.entries(this.groups)) out.set(name, new Map(pids().map((pid) => [pid, cpuMsOf(pid)])));
    return out;
  }

  start(): void {
    this.before = this.sample();
  }

  /** CPU ms used by each group since start(). */
  stop(): Record<string, number> {
    const after = this.sample();
    const out: Record<string, number> = {};
    for (const [name, pids] of after) {
      let sum = 0;
      for (const [pid, ms] of pids) {
        const was = this.before.get(name)?.get(pid);
        if (was !== undefined && ms > 0 && ms >= was) sum += ms - was;
      }
      out[name] = sum;
    }
    return out;
  }
}

interface CdpProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

/** A DevTools-protocol session with the Worker isolate of the local platform serving `platformUrl`. */
export class IsolateProfiler {
  private nextId = 0;
  private readonly waiting = new Map<number, (result: unknown) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => {
      const m = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: unknown };
      if (m.id !== undefined) {
        this.waiting.get(m.id)?.(m.result ?? m.error);
        this.waiting.delete(m.id);
      }
    });
  }

  static async attach(platformUrl: string): Promise<IsolateProfiler> {
    const port = new URL(platformUrl).port;
    // wrangler dev (real containers) or scripts/local-worker.mjs (Miniflare directly): both take these flags.
    const worker = processes().find((p) => p.args.includes(`--port ${port} `) && p.args.includes("--inspector-port") && !p.args.includes("process-tether"));
    const inspectorPort = worker ? /--inspector-port (\d+)/.exec(worker.args)?.[1] : undefined;
    if (!inspectorPort) throw new Error(`cannot find the inspector port of the Worker serving ${platformUrl}`);
    const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
    if (!targets.length) throw new Error("the Worker's inspector lists no Worker");
    const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    const profiler = new IsolateProfiler(ws);
    await profiler.send("Profiler.enable");
    await profiler.send("Profiler.setSamplingInterval", { interval: 250 });
    return profiler;
  }

  private send(method: string, params: object = {}): Promise<unknown> {
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async start(): Promise<void> {
    await this.send("Profiler.start");
  }

  async stop(): Promise<CdpProfile> {
    const result = (await this.send("Profiler.stop")) as { profile: CdpProfile };
    return result.profile;
  }

  close(): void {
    this.ws.close();
  }
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  /** Self time by function (ms), largest first. */
  self: Array<[string, number]>;
  /** Inclusive time by function (ms), largest first. */
  inclusive: Array<[string, number]>;
}

/** Self and inclusive time per function name (bundle line numbers mean nothing outside the run, so names only). */
export function summarize(profile: CdpProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const timeOf = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    timeOf.set(id, (timeOf.get(id) ?? 0) + dt);
    total += dt;
  });
  const name = (id: number): string => byId.get(id)!.callFrame.functionName || "(anonymous)";
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, ms] of timeOf) {
    self.set(name(id), (self.get(name(id)) ?? 0) + ms);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = name(cur);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + ms);
    }
  }
  const sorted = (m: Map<string, number>): Array<[string, number]> =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => [k, Math.round(v)]);
  return { totalMs: Math.round(total), idleMs: Math.round(self.get("(idle)") ?? 0), self: sorted(self), inclusive: sorted(inclusive) };
}

/** Buckets of the pool's work, by the functions that do it (the innermost matching frame of a sample wins). */
export const POOL_BUCKETS: Array<[string, string[]]> = [
  // onOutputs itself: V8 inlines complete()/finish() into it, so their time shows up there.
  ["completing inputs (onOutputs → store.complete)", ["complete", "completeMany", "finish", "onOutputs"]],
  ["looking up finished inputs (getRunning)", ["getRunning"]],
  ["claiming and dispatching (pump, claimInputs)", ["claimInputs", "pump"]],
  ["autoscaler and metrics (reconcile)", ["reconcile", "planScaling", "recordMetrics", "currentStats", "setAlarm"]],
  ["storing new inputs (addInputs)", ["addInputs"]],
  ["reading outputs (readOutputs, acknowledge)", ["readOutputs", "acknowledge", "getOutputs"]],
  ["spawn admission (admitSpawns, queue send)", ["admitSpawns", "spawnCalls", "enqueueSpawns"]],
  ["spawn delivery (deliverSpawns)", ["deliverSpawns"]],
  ["rest of the pool (message decode, createCall, putInputs)", ["onRunnerMessage", "createCall", "putInputs", "frameBytes"]],
];

/** Share of the isolate's busy (non-idle) time per bucket; what matches no bucket is the Worker's HTTP handling and runtime. */
export function attribute(profile: CdpProfile, buckets: Array<[string, string[]]> = POOL_BUCKETS): Array<[string, number]> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const bucketOf = new Map<string, string>();
  for (const [label, names] of buckets) for (const n of names) bucketOf.set(n, label);
  const totals = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    if (byId.get(id)!.callFrame.functionName === "(idle)") return;
    busy += dt;
    let label = "Worker: HTTP, routing, validation, CBOR; runtime";
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const hit = bucketOf.get(byId.get(cur)!.callFrame.functionName);
      if (hit) {
        label = hit;
        break;
      }
    }
    totals.set(label, (totals.get(label) ?? 0) + dt);
  });
  return [...totals].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round((v / busy) * 1000) / 10]);
}

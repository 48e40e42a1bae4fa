// FunctionPool: one Durable Object per function (or class instance). The
// single source of truth for its pool: pending and running inputs, outputs,
// containers and their connections (DESIGN §2). State lives in SQLite, so an
// eviction loses nothing; every timer is the one alarm.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import type { FunctionStats, InputItem, OutputItem, OutputStatus } from "../../sdk/src/wire/api";
import type { PoolToRunner, RunnerToPool, RunnerOutput, LogLine } from "../../sdk/src/wire/protocol";
import { HEARTBEAT_INTERVAL_MS } from "../../sdk/src/wire/protocol";
import { encode, decode, type SerializedError } from "../../sdk/src/wire/serialization";
import { DEFAULTS } from "../../sdk/src/wire/options";
import { base64urlToBytes } from "../../sdk/src/wire/base64url";
import { chunkBySize } from "../../sdk/src/wire/chunks";
import { createBackend, type ComputeBackend } from "../compute";
import { mintCallId } from "./call-id";
import { pathOf, ROUTES } from "../../sdk/src/wire/routes";
import { containerSecret, containerToken, randomId, signingKey } from "../auth/crypto";
import { planScaling, type ContainerView } from "./autoscaler";
import { effectiveSettings, settingOrigins, ok, fail, type PoolConfig, type PoolResult } from "./config";
import { observeLoad, observeStartup, parseRhythm, type PoolRhythm } from "./idle-histogram";
import { adaptiveStats, autoKeepAlive, scalingConfig } from "./keep-alive";
import { EXPIRED_CALLS_PER_SWEEP, PoolStore, type CallKind, type RunningInput, type MetricPoint, type HistoryRow } from "./store";
import * as limits from "./limits";
import { StartGate, classifyStartError } from "./start-gate";

/** A runner silent for this long is taken as gone (several missed heartbeats, not one slow one). */
const HEARTBEAT_TIMEOUT_MS = 15 * HEARTBEAT_INTERVAL_MS;
/** How often the alarm checks heartbeats while containers exist. */
const HEARTBEAT_CHECK_MS = 5 * HEARTBEAT_INTERVAL_MS;
/** Expired results are swept this often while calls exist. */
const SWEEP_INTERVAL_MS = 10 * 60 * 1_000;
/** ...and this often while a backlog of expired calls remains (a large burst expiring at once). */
const SWEEP_BACKLOG_INTERVAL_MS = 1_000;
/** Asking why a container exited: up to 5 tries, 100 ms apart (a process exit is seen within milliseconds of its socket closing). */
const EXIT_INFO_ATTEMPTS = 5;
const EXIT_INFO_INTERVAL_MS = 100;
/** The metrics series gets a point at most this often (and whenever the container count changes). */
const METRIC_INTERVAL_MS = 2_000;
/** Inputs sent to a runner in one frame: well under WebSocket message limits, even with large arguments. */
const MAX_INPUT_FRAME_BYTES = 8 * 1024 * 1024;
/** Longest a single read may wait for outputs (the Worker's request stays well under platform limits). */
const MAX_WAIT_MS = 30_000;

export interface CallOutputs {
  outputs: OutputItem[];
  cursor: number;
  done: boolean;
}

export interface CreateCallArgs {
  kind: Exclude<CallKind, "spawn">;
  method: string | null;
  inputs: InputItem[];
  closed: boolean;
  waitMs: number;
  /** The client's id for this request: sent again, it answers with the call the first one started. */
  requestId: string | null;
}

export interface SpawnDelivery {
  callId: string;
  args: Uint8Array;
  method: string | null;
}

interface Connection {
  ws: WebSocket;
  lastSeenMs: number;
  /**
   * Set while a container reconnected after a pool restart has not yet said
   * which inputs it holds: it gets no new inputs until it has.
   */
  resyncSinceMs: number | null;
}

export class FunctionPool extends DurableObject<Env> {
  private readonly store: PoolStore;
  private config: PoolConfig | null;
  private readonly backend: ComputeBackend;
  private readonly connections = new Map<string, Connection>();
  private readonly waiters = new Map<string, Set<() => void>>();
  /**
   * Containers where an input timed out while others still run: they finish
   * those, take no new ones, and are stopped once empty (in memory: after an
   * eviction such a container serves again, and a hung one times out again).
   */
  private readonly draining = new Set<string>();
  /** Whether starts may go out now: the start-failure breaker and the platform's backoff (in memory: an eviction starts afresh). */
  private readonly startGate = new StartGate();
  private alarmAtMs: number | null = null;
  private stopped = false;
  private completedSincePoint = 0;
  private failedSincePoint = 0;
  private lastPoint: MetricPoint | null = null;
  /** The function's idle intervals, for scaledownWindowMs "auto" (kept in meta: it outlives evictions). */
  private rhythm: PoolRhythm;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new PoolStore(ctx.storage.sql);
    this.config = this.store.getMeta<PoolConfig>("config");
    this.stopped = this.store.getMeta<boolean>("stopped") ?? false;
    this.rhythm = parseRhythm(this.store.getMeta("rhythm"));
    this.backend = this.createComputeBackend(env);
    ctx.blockConcurrencyWhile(async () => {
      this.alarmAtMs = await ctx.storage.getAlarm();
    });
    // Containers outlive an eviction of this object: find them again.
    if (this.store.containers().length > 0) ctx.waitUntil(this.recoverContainers());
  }

  /** The compute backend; a test entry overrides this to inject one. */
  protected createComputeBackend(env: Env): ComputeBackend {
    return createBackend(env);
  }

  /** A container that has not said ready by then (bundle download, import, enter()) is given up on. */
  private startupTimeoutMs(): number {
    // Pools configured by a deploy from before the option existed have no value: the default.
    return this.config?.options.startupTimeoutMs ?? DEFAULTS.startupTimeoutMs;
  }

  private get poolId(): string {
    return this.ctx.id.toString();
  }

  // ---- configuration ----------------------------------------------------

  /**
   * Applies a config if it is newer than the one held. A function's config
   * version only goes up (deploys and overrides both bump it), so an older one
   * — from a request resolved before a deploy, or another isolate's resolve
   * cache — never rolls the pool back to an earlier bundle.
   */
  configure(config: PoolConfig): void {
    // Schedules run outside any request: without SQUALL_PUBLIC_URL they know no URL, so keep the last one seen.
    if (!config.publicUrl && this.config) config = { ...config, publicUrl: this.config.publicUrl };
    if (this.config && (config.version < this.config.version || (config.version === this.config.version && config.deploymentId === this.config.deploymentId))) {
      // Same config, but the platform may now be reached at another URL (a restart with
      // other compute, or SQUALL_PUBLIC_URL changed): new containers must use the new one.
      if (config.version === this.config.version && config.publicUrl && config.publicUrl !== this.config.publicUrl) {
        this.config = { ...this.config, publicUrl: config.publicUrl };
        this.store.setMeta("config", this.config);
      }
      return;
    }
    const previous = this.config;
    this.config = config;
    this.store.setMeta("config", config);
    if (this.stopped) {
      this.stopped = false;
      this.store.setMeta("stopped", false);
    }
    if (previous && previous.deploymentId !== config.deploymentId) {
      // A new deployment: containers running the old bundle take no more inputs and go once idle.
      this.startGate.reset();
    }
    this.reconcile();
  }

  // ---- calls ------------------------------------------------------------

  async createCall(config: PoolConfig, args: CreateCallArgs): Promise<PoolResult<CallOutputs & { callId: string }>> {
    this.configure(config);
    const started = args.requestId === null ? null : this.store.callOfRequest(args.requestId);
    if (started) return ok({ callId: started, ...(await this.readOutputs(started, 0, args.waitMs)) });
    const admitted = this.checkAdmission(args.inputs.length);
    if (!admitted.ok) return admitted;
    const callId = mintCallId(this.poolId);
    const now = Date.now();
    // One transaction: a call is never left without the inputs it came with.
    this.ctx.storage.transactionSync(() => {
      this.store.createCall(callId, args.kind, args.closed, now, args.requestId);
      this.store.addInputs(callId, args.kind, args.inputs.map((i) => ({ ...i, method: args.method })));
    });
    this.onLoadChange();
    const out = await this.readOutputs(callId, 0, args.waitMs);
    return ok({ callId, ...out });
  }

  putInputs(workspaceId: string, callId: string, inputs: InputItem[], closed: boolean, method: string | null): PoolResult<{ admitted: number }> {
    const call = this.ownCall(workspaceId, callId);
    if (!call.ok) return call;
    if (call.value.kind !== "map") return fail({ code: "INVALID_ARGUMENT", message: `call ${callId} is not a map call; only map calls take more inputs` });
    if (call.value.cancelled) return fail({ code: "CONFLICT", message: `call ${callId} was cancelled` });
    // Inputs arrive numbered in order (the API checks each request counts up by one), so
    // `total` is the next idx expected and anything below it is a batch sent again
    // after its answer was lost: admitted once already, whether or not it has run.
    const nextIdx = call.value.total;
    if (inputs.length > 0 && inputs[0].idx > nextIdx) {
      return fail({ code: "INVALID_ARGUMENT", message: `inputs: call ${callId} expects idx ${nextIdx} next, not ${inputs[0].idx}` });
    }
    const fresh = inputs.filter((i) => i.idx >= nextIdx);
    if (call.value.closed) {
      if (fresh.length === 0 && closed) return ok({ admitted: 0 });
      return fail({ code: "CONFLICT", message: `call ${callId} is closed: it takes no more inputs` });
    }
    const admitted = this.checkAdmission(fresh.length);
    if (!admitted.ok) return admitted;
    const added = this.store.addInputs(callId, "map", fresh.map((i) => ({ ...i, method })));
    if (closed) this.store.closeCall(callId);
    this.store.touchCall(callId, Date.now());
    if (added > 0) this.onLoadChange();
    else if (closed) this.notify(callId);
    return ok({ admitted: added });
  }

  async getOutputs(workspaceId: string, callId: string, cursor: number, waitMs: number): Promise<PoolResult<CallOutputs>> {
    const call = this.ownCall(workspaceId, callId);
    if (!call.ok) return call;
    if (call.value.kind === "map" && cursor > 0) this.store.acknowledge(callId, cursor);
    this.store.touchCall(callId, Date.now());
    return ok(await this.readOutputs(callId, cursor, waitMs));
  }

  /**
   * The results of several single-input calls of this pool (spawned, remote)
   * at once; waits up to waitMs for the first when none is ready. Calls that
   * are not this workspace's are missing, exactly like calls that never existed.
   */
  async readResults(workspaceId: string, callIds: readonly string[], waitMs: number): Promise<{ results: Array<{ callId: string; output: OutputItem }>; missing: string[] }> {
    const own = this.config !== null && this.config.workspaceId === workspaceId;
    const existing = own ? this.store.existingCalls(callIds) : new Set<string>();
    const known = callIds.filter((id) => existing.has(id));
    const missing = callIds.filter((id) => !existing.has(id));
    let rows = this.store.firstOutputs(known, limits.MAX_RESULT_BYTES_PER_READ);
    if (rows.length === 0 && known.length > 0 && waitMs > 0) {
      await this.waitForAny(known, Math.min(waitMs, MAX_WAIT_MS));
      rows = this.store.firstOutputs(known, limits.MAX_RESULT_BYTES_PER_READ);
    }
    // A result read now stays readable for its TTL from now, as with a single call's read.
    this.store.touchCalls(rows.map((r) => r.callId), Date.now());
    return { results: rows.map((r) => ({ callId: r.callId, output: { idx: r.idx, status: r.status, value: r.value } })), missing };
  }

  async cancelCall(workspaceId: string, callId: string): Promise<PoolResult<{ cancelledInputs: number }>> {
    const call = this.ownCall(workspaceId, callId);
    if (!call.ok) return call;
    this.store.markCancelled(callId);
    const reason = "the call was cancelled";
    if (call.value.kind === "spawn" && call.value.total === 0) {
      // Not delivered from the spawn queue yet: it will never run.
      this.store.completeUndelivered(callId, encode(platformError("InputCancellation", reason)), Date.now());
      this.notify(callId);
      return ok({ cancelledInputs: 1 });
    }
    const cancelled = await this.cancelInputs(this.store.inputsOf(callId), reason);
    return ok({ cancelledInputs: cancelled });
  }

  // ---- spawned calls ----------------------------------------------------

  /** Reserves call ids for spawned calls; their inputs arrive through the spawn queue (deliverSpawns). */
  admitSpawns(config: PoolConfig, count: number): PoolResult<{ callIds: string[] }> {
    this.configure(config);
    if (this.stopped) return fail({ code: "CONFLICT", message: `app ${config.appName} is stopped; deploy it again to call it` });
    const counts = this.store.countInputs();
    const pending = counts.pendingSpawns + counts.awaitingDelivery;
    if (pending + count > limits.MAX_PENDING_SPAWNS) {
      return fail({
        code: "RESOURCE_EXHAUSTED",
        message: `function ${config.functionName} has ${pending} pending spawned calls; the limit is ${limits.MAX_PENDING_SPAWNS}`,
        retryAfterMs: limits.RETRY_AFTER_MS * 10,
      });
    }
    const now = Date.now();
    const callIds: string[] = [];
    for (let i = 0; i < count; i++) {
      const callId = mintCallId(this.poolId);
      this.store.createCall(callId, "spawn", true, now);
      callIds.push(callId);
    }
    return ok({ callIds });
  }

  /** Hands spawned calls' inputs to the pool. At-least-once delivery: a call already delivered is skipped. */
  deliverSpawns(calls: SpawnDelivery[]): { delivered: number } {
    let delivered = 0;
    for (const c of calls) {
      const call = this.store.getCall(c.callId);
      if (!call || call.cancelled || call.total > 0) continue;
      delivered += this.store.addInputs(c.callId, "spawn", [{ idx: 0, args: c.args, method: c.method }]);
    }
    if (delivered > 0) this.onLoadChange();
    return { delivered };
  }

  // ---- stats, stop, logs ------------------------------------------------

  stats(workspaceId: string): PoolResult<FunctionStats> {
    if (!this.config || this.config.workspaceId !== workspaceId) return fail({ code: "NOT_FOUND", message: "function not found" });
    return ok(this.currentStats());
  }

  /** Stats, the last hour of metrics and the recent inputs, for the dashboard. */
  overview(workspaceId: string, sinceMs: number): PoolResult<{ stats: FunctionStats; metrics: MetricPoint[]; recent: HistoryRow[] }> {
    if (!this.config || this.config.workspaceId !== workspaceId) return fail({ code: "NOT_FOUND", message: "function not found" });
    return ok({ stats: this.currentStats(), metrics: this.store.metrics(sinceMs), recent: this.store.recentHistory(50) });
  }

  private currentStats(): FunctionStats {
    const config = this.config!;
    const counts = this.store.countInputs();
    const containers = { starting: 0, idle: 0, busy: 0, total: 0 };
    for (const c of this.store.containers()) {
      if (c.state === "stopping") continue;
      containers.total++;
      if (c.state === "starting") containers.starting++;
      else if (c.running > 0) containers.busy++;
      else containers.idle++;
    }
    return {
      backlog: counts.pendingCalls + counts.pendingSpawns + counts.awaitingDelivery,
      runningInputs: counts.running,
      containers,
      autoscaler: effectiveSettings(config),
      autoscalerSources: settingOrigins(config),
      ...adaptiveStats(autoKeepAlive(effectiveSettings(config), this.rhythm, Date.now()), this.rhythm),
      startsHeldBack: this.startGate.heldBack(Date.now()),
    };
  }

  private recordMetrics(now: number): void {
    const s = this.currentStats();
    const last = this.lastPoint;
    const changed = !last || last.starting !== s.containers.starting || last.idle !== s.containers.idle || last.busy !== s.containers.busy || last.backlog !== s.backlog;
    if (!changed && now - last.ts < METRIC_INTERVAL_MS) return;
    if (last && !changed && last.running === 0 && s.runningInputs === 0 && this.completedSincePoint === 0 && now - last.ts < 60_000) return;
    const point: MetricPoint = {
      ts: now,
      starting: s.containers.starting,
      idle: s.containers.idle,
      busy: s.containers.busy,
      backlog: s.backlog,
      running: s.runningInputs,
      completed: this.completedSincePoint,
      failed: this.failedSincePoint,
    };
    this.store.recordMetric(point);
    this.lastPoint = point;
    this.completedSincePoint = 0;
    this.failedSincePoint = 0;
  }

  /** Stops every container and cancels every pending and running input (`squall app stop`). */
  async stopAll(reason: string): Promise<{ cancelledInputs: number; stoppedContainers: number }> {
    this.stopped = true;
    this.store.setMeta("stopped", true);
    const undelivered = this.store.undeliveredSpawns();
    const cancelledValue = encode(platformError("InputCancellation", reason));
    for (const callId of undelivered) {
      // Still in the spawn queue: give it its cancelled result now; a late delivery finds it cancelled.
      this.store.completeUndelivered(callId, cancelledValue, Date.now());
      this.store.markCancelled(callId);
      this.notify(callId);
    }
    const cancelledInputs = undelivered.length + (await this.cancelInputs(this.store.inputsOf(null), reason));
    const containers = this.store.containers();
    await Promise.all(containers.map((c) => this.stopContainer(c.id, false)));
    await this.setAlarm(null);
    return { cancelledInputs, stoppedContainers: containers.length };
  }

  /** Removes the pool for good (an ephemeral app's end). */
  async destroy(): Promise<void> {
    await this.stopAll("the app was removed");
    this.connections.clear();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.config = null;
  }

  readLogs(workspaceId: string, afterSeq: number, limit: number): PoolResult<ReturnType<PoolStore["readLogs"]>> {
    if (!this.config || this.config.workspaceId !== workspaceId) return fail({ code: "NOT_FOUND", message: "function not found" });
    return ok(this.store.readLogs(afterSeq, Math.min(limit, 1_000)));
  }

  // ---- alarm --------------------------------------------------------------

  override async alarm(): Promise<void> {
    this.alarmAtMs = null;
    const now = Date.now();
    for (const c of this.store.containers()) {
      const conn = this.connections.get(c.id);
      const silentMs = conn ? now - conn.lastSeenMs : 0;
      if (conn && c.state === "ready" && silentMs > HEARTBEAT_TIMEOUT_MS) {
        // Synchronous user code blocks a busy runner's heartbeats, so silence
        // alone does not condemn it; but a killed one may never close its
        // socket, so ask the backend whether its process is still there.
        const exit = c.running === 0 ? null : await this.backend.describeExit(c.id).catch(() => null);
        if (c.running === 0 || exit !== null) {
          await this.containerLost(c.id, `no heartbeat for ${Math.round(silentMs / 1000)} s`);
          continue;
        }
      }
      if (conn?.resyncSinceMs != null && now - conn.resyncSinceMs > this.startupTimeoutMs()) {
        await this.containerLost(c.id, `it did not answer within ${this.startupTimeoutMs() / 1000} s after the pool reconnected`);
        continue;
      }
      if (c.state === "starting" && now - c.startedAt >= this.startupTimeoutMs()) {
        this.recordStartFailure(c.id, `container did not become ready within ${this.startupTimeoutMs() / 1000} s (startupTimeoutMs)`);
        await this.stopContainer(c.id, true);
      }
    }
    await this.timeOutOverdue(now);
    const expired = this.store.expiredCalls(now, limits.RESULT_TTL_MS, limits.ABANDONED_MAP_TTL_MS);
    for (const id of expired) {
      // An abandoned map may still have inputs on containers: cancel them there, so each container's count comes back down.
      const running = this.store.inputsOf(id).filter((i) => i.state === "running");
      if (running.length > 0) await this.cancelInputs(running, "the map call was abandoned: nobody read its outputs for an hour");
      this.store.deleteCall(id);
    }
    // Inputs whose retry delay has passed are ready now: send them, not only plan for them.
    this.onLoadChange();
    // A full sweep means more are waiting: the next one comes in a second, not in SWEEP_INTERVAL_MS.
    if (expired.length === EXPIRED_CALLS_PER_SWEEP) await this.setAlarm(Date.now() + SWEEP_BACKLOG_INTERVAL_MS);
  }

  // ---- admission and outputs ---------------------------------------------

  private checkAdmission(count: number): PoolResult<true> {
    if (!this.config) return fail({ code: "NOT_FOUND", message: "function not found" });
    if (this.stopped) return fail({ code: "CONFLICT", message: `app ${this.config.appName} is stopped; deploy it again to call it` });
    const counts = this.store.countInputs();
    const name = this.config.functionName;
    if (counts.pendingCalls + count > limits.MAX_PENDING_INPUTS) {
      return fail({
        code: "RESOURCE_EXHAUSTED",
        message: `function ${name} has ${counts.pendingCalls} inputs waiting for a container; the limit is ${limits.MAX_PENDING_INPUTS}`,
        retryAfterMs: limits.RETRY_AFTER_MS,
      });
    }
    if (counts.pendingCalls + counts.running + count > limits.MAX_TOTAL_INPUTS) {
      return fail({
        code: "RESOURCE_EXHAUSTED",
        message: `function ${name} has ${counts.pendingCalls + counts.running} inputs pending or running; the limit is ${limits.MAX_TOTAL_INPUTS}`,
        retryAfterMs: limits.RETRY_AFTER_MS,
      });
    }
    return ok(true);
  }

  private ownCall(workspaceId: string, callId: string): PoolResult<NonNullable<ReturnType<PoolStore["getCall"]>>> {
    const call = this.config && this.config.workspaceId === workspaceId ? this.store.getCall(callId) : null;
    if (!call) return fail({ code: "NOT_FOUND", message: `call ${callId} not found (results are kept for 24 hours)` });
    return ok(call);
  }

  private async readOutputs(callId: string, cursor: number, waitMs: number): Promise<CallOutputs> {
    const deadline = Date.now() + Math.min(Math.max(waitMs, 0), MAX_WAIT_MS);
    for (;;) {
      const rows = this.store.readOutputs(callId, cursor, limits.MAX_OUTPUTS_PER_READ);
      const call = this.store.getCall(callId);
      const last = rows.length ? rows[rows.length - 1].seq : cursor;
      const done = !!call && isDone(call) && (rows.length < limits.MAX_OUTPUTS_PER_READ || last >= this.store.lastOutputSeq(callId));
      const remaining = deadline - Date.now();
      if (rows.length > 0 || done || !call || remaining <= 0) {
        return { outputs: rows.map((r) => ({ idx: r.idx, status: r.status, value: r.value })), cursor: last, done };
      }
      await this.waitFor(callId, remaining);
    }
  }

  /** An input's final output: stored, counted for the metrics, and its readers woken. */
  private finish(input: { id: number; callId: string; idx: number }, status: OutputStatus, value: Uint8Array, now: number): void {
    this.store.complete(input, status, value, now, this.config?.options.timeoutMs ?? 0);
    this.completedSincePoint++;
    if (status !== "success") this.failedSincePoint++;
    this.notify(input.callId);
  }

  private waitFor(callId: string, ms: number): Promise<void> {
    return this.waitForAny([callId], ms);
  }

  /** Resolves when any of these calls gets an output (or is done), or after `ms`. */
  private waitForAny(callIds: readonly string[], ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sets = callIds.map((id) => {
        let set = this.waiters.get(id);
        if (!set) this.waiters.set(id, (set = new Set()));
        return [id, set] as const;
      });
      const wake = (): void => {
        clearTimeout(timer);
        for (const [id, set] of sets) {
          set.delete(wake);
          if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
        }
        resolve();
      };
      const timer = setTimeout(wake, ms);
      for (const [, set] of sets) set.add(wake);
    });
  }

  private notify(callId: string): void {
    const set = this.waiters.get(callId);
    if (set) for (const wake of [...set]) wake();
  }

  private async cancelInputs(inputs: Array<RunningInput & { state: string }>, reason: string): Promise<number> {
    const value = encode(platformError("InputCancellation", reason));
    const now = Date.now();
    const byContainer = new Map<string, number[]>();
    for (const input of inputs) {
      if (input.state === "running" && input.containerId) {
        const ids = byContainer.get(input.containerId) ?? [];
        ids.push(input.id);
        byContainer.set(input.containerId, ids);
        this.store.addRunning(input.containerId, -1, now);
      }
      this.finish(input, "cancelled", value, now);
    }
    for (const [containerId, ids] of byContainer) this.send(containerId, { t: "cancel", ids });
    if (inputs.length > 0) this.onLoadChange();
    return inputs.length;
  }

  private async timeOutOverdue(now: number): Promise<void> {
    const overdue = this.store.overdue(now);
    if (!overdue.length || !this.config) return;
    const timeoutMs = this.config.options.timeoutMs;
    const value = encode(platformError("FunctionTimeoutError", `${this.config.functionName} timed out: an input ran longer than timeoutMs (${timeoutMs} ms)`));
    const stuck = new Map<string, number[]>();
    for (const input of overdue) {
      this.finish(input, "timeout", value, now);
      this.store.addRunning(input.containerId, -1, now);
      stuck.set(input.containerId, [...(stuck.get(input.containerId) ?? []), input.id]);
    }
    // The timed-out code may still be running (or hung), so its container goes: at once if it
    // runs nothing else, or once the other inputs on it finish, so that they do not run twice.
    const running = new Map(this.store.containers().map((c) => [c.id, c.running]));
    for (const [id, ids] of stuck) {
      if ((running.get(id) ?? 0) === 0) {
        await this.stopContainer(id, true);
        continue;
      }
      this.send(id, { t: "cancel", ids });
      this.draining.add(id);
    }
    if (stuck.size > 0) this.onLoadChange();
  }

  // ---- scaling --------------------------------------------------------------

  private onLoadChange(): void {
    this.pump();
    this.reconcile();
  }

  /** Runs the autoscaler policy and acts on it, then sets the alarm for the next thing to check. */
  private reconcile(): void {
    if (!this.config) return;
    const now = Date.now();
    const settings = effectiveSettings(this.config);
    const counts = this.store.countInputs();
    const all = this.store.containers();
    // Containers of an older deployment, and draining ones, take no new inputs and go once empty.
    const retiring = (c: { id: string; deploymentId: string }): boolean => c.deploymentId !== this.config!.deploymentId || this.draining.has(c.id);
    const current = all.filter((c) => c.state !== "stopping" && !retiring(c));

    for (const c of all) {
      if (c.state !== "stopping" && retiring(c) && c.running === 0) void this.stopContainer(c.id, true);
    }

    let wakeAtMs: number | null = null;
    const seen = observeLoad(this.rhythm, counts.readyNow + counts.running > 0, now);
    if (seen) this.setRhythm(seen);
    if (!this.stopped) {
      const keepAlive = autoKeepAlive(settings, this.rhythm, now);
      const views: ContainerView[] = current.map((c) => ({
        id: c.id,
        phase: c.state === "starting" ? "starting" : c.running > 0 ? "busy" : "idle",
        idleSinceMs: c.state === "ready" && c.running === 0 ? c.idleSince : null,
      }));
      const plan = planScaling(
        scalingConfig(settings, this.config.options.targetInputs, keepAlive),
        { pending: counts.readyNow, running: counts.running },
        views,
        now,
      );
      wakeAtMs = earliest(plan.wakeAtMs, keepAlive?.wakeAtMs ?? null);
      if (plan.start > 0) {
        // The rest go out as requests under way finish (each reconciles), or when a hold ends.
        const allowed = this.startGate.allowed(plan.start, now);
        for (let i = 0; i < allowed; i++) this.startContainer(now);
        wakeAtMs = earliest(wakeAtMs, this.startGate.heldBack(now)?.untilMs ?? null);
      }
      for (const id of plan.stop) void this.stopContainer(id, true);
    }

    this.recordMetrics(now);
    const live = this.store.containers().length > 0;
    const next = earliest(
      wakeAtMs,
      this.store.earliestDeadline(),
      this.store.earliestNotBefore(now),
      live ? now + HEARTBEAT_CHECK_MS : null,
      startupDeadlineMs(this.store.earliestStart(), this.startupTimeoutMs()),
      this.store.hasCalls() ? now + SWEEP_INTERVAL_MS : null,
    );
    void this.setAlarm(next);
  }

  private setRhythm(rhythm: PoolRhythm): void {
    this.rhythm = rhythm;
    this.store.setMeta("rhythm", rhythm);
  }

  private async setAlarm(atMs: number | null): Promise<void> {
    if (atMs === null) {
      if (this.alarmAtMs !== null) {
        this.alarmAtMs = null;
        await this.ctx.storage.deleteAlarm();
      }
      return;
    }
    // Never re-arm for "now": an alarm must be in the future to fire again.
    const at = Math.max(atMs, Date.now() + 1);
    if (this.alarmAtMs !== null && this.alarmAtMs <= at && this.alarmAtMs > Date.now()) return;
    this.alarmAtMs = at;
    await this.ctx.storage.setAlarm(at);
  }

  /**
   * Sends pending inputs to ready containers with free slots: up to
   * targetInputs each, then bursting to maxInputs. Busiest first, so inputs
   * pack onto few containers and the spare ones go idle and can scale down.
   * Only the busiest maxContainers are fed: after maxContainers is lowered,
   * the rest empty out and the autoscaler stops them, backlog or not.
   */
  private pump(): void {
    if (!this.config || this.stopped) return;
    const { targetInputs, maxInputs, timeoutMs } = this.config.options;
    const { maxContainers } = effectiveSettings(this.config);
    const ready = this.store
      .containers()
      .filter((c) => c.state === "ready" && c.deploymentId === this.config!.deploymentId && !this.draining.has(c.id) && this.connections.get(c.id)?.resyncSinceMs === null)
      .sort((a, b) => b.running - a.running)
      .slice(0, maxContainers ?? Infinity);
    if (!ready.length) return;
    const now = Date.now();
    for (const perContainer of targetInputs < maxInputs ? [targetInputs, maxInputs] : [maxInputs]) {
      for (const c of ready) {
        const inputs = this.store.claimInputs(c.id, perContainer - c.running, now, timeoutMs);
        if (!inputs.length) continue;
        c.running += inputs.length;
        this.store.addRunning(c.id, inputs.length, now);
        for (const batch of chunkBySize(inputs, (i) => i.args.byteLength, MAX_INPUT_FRAME_BYTES)) {
          this.send(c.id, { t: "inputs", inputs: batch.map((i) => ({ id: i.id, method: i.method ?? undefined, args: i.args })) });
        }
      }
    }
  }

  // ---- containers -----------------------------------------------------------

  private startContainer(now: number): void {
    const config = this.config!;
    const id = randomId("ct-", 10);
    // The row goes in now, synchronously: the next reconcile counts this
    // container as starting, so one burst asks for each container once.
    this.store.addContainer({ id, deploymentId: config.deploymentId, secret: "", now });
    const stillStarting = (): boolean => this.store.containers().some((c) => c.id === id && c.state === "starting");
    const launch = async (): Promise<void> => {
      this.startGate.requested();
      try {
        const key = signingKey(this.env);
        const secret = await containerSecret(key, config.deploymentId, id);
        this.store.setContainerSecret(id, secret);
        try {
          await this.backend.start(id, {
            SQUALL_CONTAINER_ID: id,
            SQUALL_CONTAINER_SECRET: secret,
            SQUALL_URL: config.publicUrl,
            SQUALL_TOKEN: await containerToken(key, config.workspaceId),
            SQUALL_APP: config.appName,
            SQUALL_FUNCTION: config.functionName,
          });
        } finally {
          this.startGate.settled();
        }
        this.startGate.platformAccepted();
        const ws = await this.backend.connect(id, secret);
        if (!stillStarting()) {
          // Stopped while it was starting (app stop, deploy): let it go.
          ws.close(1000, "no longer wanted");
          await this.backend.stop(id).catch(() => undefined);
          return;
        }
        this.attach(id, ws);
        this.sendInit(id);
      } catch (err) {
        // Asked before stopping it: a stop would itself make it exit.
        const failure = stillStarting() ? await classifyStartError(err, () => this.backend.describeExit(id)) : null;
        void this.backend.stop(id).catch(() => undefined);
        // The pool stopped it meanwhile (startup timeout, deploy, app stop): not a failure to start.
        if (!failure || !stillStarting()) return;
        this.store.removeContainer(id);
        if (failure.kind === "container") this.recordStartFailure(id, failure.message);
        else {
          const line = this.startGate.platformFailed(failure, Date.now());
          if (line) this.logPoolLine(id, line);
        }
      }
      // A slot for another start request is free.
      this.reconcile();
    };
    this.ctx.waitUntil(launch());
  }

  private sendInit(id: string): void {
    const config = this.config!;
    this.send(id, {
      t: "init",
      containerId: id,
      deploymentId: config.deploymentId,
      bundleUrl: `${config.publicUrl}${pathOf(ROUTES.bundle, { deploymentId: config.deploymentId })}?container=${encodeURIComponent(id)}`,
      target: config.kind === "class" && config.params !== null
        ? { kind: "class", name: config.functionName, params: base64urlToBytes(config.params) }
        : { kind: "function", name: config.functionName },
      maxInputs: config.options.maxInputs,
    });
  }

  private attach(id: string, ws: WebSocket): void {
    this.connections.set(id, { ws, lastSeenMs: Date.now(), resyncSinceMs: null });
    // Binary frames as ArrayBuffers (newer compatibility dates default to Blob).
    (ws as WebSocket & { binaryType: string }).binaryType = "arraybuffer";
    ws.addEventListener("message", (event) => {
      const conn = this.connections.get(id);
      if (!conn || conn.ws !== ws) return;
      conn.lastSeenMs = Date.now();
      void frameBytes(event.data).then((bytes) => {
        let message: RunnerToPool;
        try {
          message = decode<RunnerToPool>(bytes);
        } catch {
          console.warn(`container ${id} sent a frame that is not CBOR; ignored`);
          return;
        }
        return this.onRunnerMessage(id, message);
      }).catch((err: unknown) => {
        // Unacknowledged outputs stay with the runner, which sends them again on its next connection.
        console.error(`pool ${this.config?.functionName ?? ""}: a message from container ${id} failed: ${(err as Error).message}`);
      });
    });
    const onClose = (): void => {
      const conn = this.connections.get(id);
      if (conn && conn.ws === ws) void this.containerLost(id, "its connection closed");
    };
    ws.addEventListener("close", onClose);
    ws.addEventListener("error", onClose);
  }

  private send(id: string, message: PoolToRunner): void {
    const conn = this.connections.get(id);
    if (!conn) return;
    try {
      conn.ws.send(encode(message));
    } catch {
      void this.containerLost(id, "sending to it failed");
    }
  }

  private async onRunnerMessage(id: string, message: RunnerToPool): Promise<void> {
    switch (message.t) {
      case "ready": {
        const conn = this.connections.get(id);
        if (conn?.resyncSinceMs != null) {
          conn.resyncSinceMs = null;
          this.resync(id, message.holding);
        }
        this.startGate.ready();
        const started = this.store.containers().find((c) => c.id === id && c.state === "starting");
        if (started) this.setRhythm(observeStartup(this.rhythm, Date.now() - started.startedAt));
        this.store.markReady(id, Date.now());
        this.onLoadChange();
        return;
      }
      case "init_failed":
        this.recordStartFailure(id, `${message.error.name}: ${message.error.message}`, message.error);
        await this.stopContainer(id, true);
        this.reconcile();
        return;
      case "outputs":
        this.onOutputs(id, message.outputs);
        return;
      case "logs":
        this.onLogs(id, message.lines);
        return;
      case "heartbeat":
        return;
    }
  }

  private onOutputs(containerId: string, outputs: RunnerOutput[]): void {
    if (!this.config) return;
    const now = Date.now();
    const running = this.store.getRunning(outputs.map((o) => o.id), containerId);
    const retries = this.config.options.retries;
    let finished = 0;
    for (const o of outputs) {
      const input = running.get(o.id);
      if (!input) continue; // cancelled, timed out, or re-run elsewhere: this result is stale
      finished++;
      if (o.status === "failure" && input.failures < retries.maxRetries) {
        const delay = Math.min(retries.initialDelayMs * retries.backoffCoefficient ** input.failures, retries.maxDelayMs);
        this.store.requeue(input, now + delay, { failure: true });
        continue;
      }
      this.finish(input, o.status, o.value, now);
    }
    if (finished > 0) this.store.addRunning(containerId, -finished, now);
    // Stale ones too: the runner holds every output until told the pool has it.
    this.send(containerId, { t: "ack", ids: outputs.map((o) => o.id) });
    this.onLoadChange();
  }

  /**
   * A container reconnected after this pool restarted: inputs stored as
   * running on it that it does not hold never reached it (the pool went down
   * between storing and sending), so they go back to the queue. Those it
   * finished while the pool was down arrive as outputs it re-sends.
   */
  private resync(containerId: string, holding: readonly number[]): void {
    const held = new Set(holding);
    const now = Date.now();
    let missing = 0;
    for (const input of this.store.runningOn(containerId)) {
      if (held.has(input.id)) continue;
      this.store.requeue(input, now, {});
      missing++;
    }
    if (missing > 0) this.store.addRunning(containerId, -missing, now);
  }

  private onLogs(containerId: string, lines: LogLine[]): void {
    this.store.appendLogs(
      lines.map((l) => ({
        ts: l.ts,
        containerId,
        callId: l.inputId === undefined ? null : this.store.callIdOfInput(l.inputId),
        stream: l.stream,
        text: l.text,
      })),
    );
  }

  /** The container's own failure to start; the third in a row fails what waits instead of retrying forever. */
  private recordStartFailure(containerId: string, message: string, error?: SerializedError): void {
    this.logPoolLine(containerId, `a container failed to start: ${message}`);
    if (!this.startGate.containerFailed(message, Date.now())) return;
    const value = encode(
      error
        ? { ...error, message: `containers for ${this.config?.functionName} failed to start ${limits.MAX_START_FAILURES} times: ${error.message}` }
        : platformError("RemoteError", `containers for ${this.config?.functionName} failed to start ${limits.MAX_START_FAILURES} times: ${message}`),
    );
    const now = Date.now();
    for (const input of this.store.inputsOf(null)) {
      if (input.state !== "pending") continue;
      this.finish(input, "platform_error", value, now);
    }
  }

  /**
   * A line about starting containers, in the app's logs (`squall logs`) under
   * the container it concerns: where the app's owner looks, and bounded (the
   * log keeps a tail), unlike the platform's console for a pool that retries
   * for minutes.
   */
  private logPoolLine(containerId: string, text: string): void {
    this.store.appendLogs([{ ts: Date.now(), containerId, callId: null, stream: "stderr", text: `[squall] ${text}` }]);
  }

  /** A container went away without being asked to: its inputs go back to the queue (or fail, if they keep killing containers). */
  private async containerLost(id: string, reason: string): Promise<void> {
    const row = this.store.containers().find((c) => c.id === id);
    this.connections.delete(id);
    this.draining.delete(id);
    if (!row || row.state === "stopping") return;
    this.store.setContainerState(id, "stopping");
    const exit = await this.exitOf(id);
    const why = exit ? `${reason}; the container ${exit}` : reason;
    if (row.state === "starting") this.recordStartFailure(id, `container stopped before it was ready: ${why}`);
    const now = Date.now();
    for (const input of this.store.runningOn(id)) {
      if (input.losses + 1 >= limits.MAX_CONTAINER_LOSSES) {
        const value = encode(platformError("RemoteError", `the container running this input stopped unexpectedly ${input.losses + 1} times (last: ${why})`));
        this.finish(input, "platform_error", value, now);
      } else {
        this.store.requeue(input, now, { loss: true });
      }
    }
    this.store.removeContainer(id);
    await this.backend.stop(id).catch(() => undefined);
    this.onLoadChange();
  }

  /** Why a container went away. Its connection can close a moment before its process is seen to exit, so ask a few times. */
  private async exitOf(id: string): Promise<string | null> {
    for (let attempt = 0; attempt < EXIT_INFO_ATTEMPTS; attempt++) {
      const exit = await this.backend.describeExit(id).catch(() => null);
      if (exit) return exit;
      await new Promise((r) => setTimeout(r, EXIT_INFO_INTERVAL_MS));
    }
    return null;
  }

  /** Stops a container the pool no longer wants. Its running inputs go back to the queue without counting against them. */
  private async stopContainer(id: string, requeue: boolean): Promise<void> {
    const row = this.store.containers().find((c) => c.id === id);
    this.draining.delete(id);
    if (!row) return;
    this.store.setContainerState(id, "stopping");
    if (requeue) {
      const now = Date.now();
      for (const input of this.store.runningOn(id)) this.store.requeue(input, now, {});
    }
    this.send(id, { t: "shutdown" });
    const conn = this.connections.get(id);
    this.connections.delete(id);
    try {
      conn?.ws.close(1000, "stopped by pool");
    } catch {
      // already closed
    }
    await this.backend.stop(id).catch(() => undefined);
    this.store.removeContainer(id);
  }

  /** After an eviction: reconnect to containers that are still running, give up on the rest. */
  private async recoverContainers(): Promise<void> {
    for (const c of this.store.containers()) {
      if (this.connections.has(c.id)) continue;
      if (c.state === "stopping") {
        await this.backend.stop(c.id).catch(() => undefined);
        this.store.removeContainer(c.id);
        continue;
      }
      try {
        const ws = await this.backend.connect(c.id, c.secret);
        this.attach(c.id, ws);
        this.connections.get(c.id)!.resyncSinceMs = Date.now();
        if (this.config) this.sendInit(c.id);
      } catch {
        await this.containerLost(c.id, "the pool restarted and could not reach it again");
      }
    }
    this.onLoadChange();
  }

}

async function frameBytes(data: unknown): Promise<Uint8Array> {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof Blob) return new Uint8Array(await data.arrayBuffer());
  return new TextEncoder().encode(String(data));
}

function isDone(call: { kind: CallKind; closed: number; total: number; done: number }): boolean {
  if (call.kind === "spawn" && call.total === 0) return false;
  return call.closed === 1 && call.done >= call.total;
}

function startupDeadlineMs(startedAtMs: number | null, startupTimeoutMs: number): number | null {
  return startedAtMs === null ? null : startedAtMs + startupTimeoutMs;
}

function earliest(...times: Array<number | null>): number | null {
  let best: number | null = null;
  for (const t of times) if (t !== null && (best === null || t < best)) best = t;
  return best;
}

function platformError(name: string, message: string): SerializedError {
  return { name, message };
}


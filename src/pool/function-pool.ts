// FunctionPool: one Durable Object per function (or class instance). The
// single source of truth for its pool: pending and running inputs, outputs,
// containers and their connections (docs/architecture.md, "The FunctionPool
// Durable Object"). State lives in SQLite, so an eviction loses nothing;
// every timer is the one alarm.
//
// This class is the shell: its RPC methods (the call ledger) and the alarm.
// Containers and the runner protocol are the fleet's (fleet.ts); which
// container gets which input is dispatch.ts, how inputs end or retry
// outcomes.ts, scaling autoscaler.ts, start holds start-gate.ts, readers'
// waits waiters.ts, stats metrics.ts, the next wake alarm-timing.ts.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import type { FunctionStats, InputItem, OutputItem } from "../../sdk/src/wire/api";
import { encode } from "../../sdk/src/wire/serialization";
import { DEFAULTS } from "../../sdk/src/wire/options";
import { createBackend, type ComputeBackend } from "../compute";
import { mintCallId } from "./call-id";
import { planScaling, type ContainerView } from "./autoscaler";
import { effectiveSettings, ok, fail, type CallOutputs, type CreateCallArgs, type PoolConfig, type PoolResult, type SpawnDelivery } from "./config";
import { parseRhythm } from "./idle-histogram";
import { StoredRhythm } from "./stored-rhythm";
import { autoKeepAlive, scalingConfig } from "./keep-alive";
import { EXPIRED_CALLS_PER_SWEEP, PoolStore, type FinishedInput } from "./store";
import type { HistoryRow, MetricPoint } from "./store-schema";
import * as limits from "./limits";
import { StartGate } from "./start-gate";
import { systemClock, type Clock } from "./clock";
import { ContainerFleet, type Fleet, type FleetHost } from "./fleet";
import { planDispatch } from "./dispatch";
import { InputPace } from "./prefetch";
import { OutputWaiters } from "./waiters";
import { InputOutcomes, platformError } from "./outcomes";
import { MetricsSampler, poolLoad, poolStats } from "./metrics";
import { SWEEP_BACKLOG_INTERVAL_MS, alarmToSet, earliest, nextWakeMs } from "./alarm-timing";
import { CallStreams, type StreamRead } from "./streams";
import { EarlyOutputs } from "./early-outputs";
import { MAX_WAIT_MS, OutputReads, isDone } from "./output-reads";
import { acceptChannel } from "../api/call-channel";
import { outputsCbor } from "../api/outputs-cbor";
import { admitRequest } from "../api/rate-limit";

/** At most one autoscaler pass per this window while load changes (see reconcileSoon). */
const RECONCILE_WINDOW_MS = 5;

export class FunctionPool extends DurableObject<Env> {
  private readonly clock: Clock;
  private readonly store: PoolStore;
  private config: PoolConfig | null;
  private readonly fleet: Fleet;
  private readonly waiters = new OutputWaiters();
  /** Whether starts may go out now: the start-failure breaker and the platform's backoff (in memory: an eviction starts afresh). */
  private readonly startGate = new StartGate();
  private readonly pace = new InputPace();
  private readonly metrics: MetricsSampler;
  private readonly outcomes: InputOutcomes;
  private readonly streams: CallStreams;
  /** Remote calls' outputs answered before they are stored: stored at the start of every entry point and reconcile. */
  private readonly early: EarlyOutputs<FinishedInput>;
  private readonly outputReads: OutputReads;
  private alarmAtMs: number | null = null;
  private lastReconcileMs = Number.NEGATIVE_INFINITY;
  private reconcileTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** The function's idle intervals, for scaledownWindowMs "auto" (kept in meta: it outlives evictions). */
  private readonly rhythm: StoredRhythm;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.clock = this.createClock();
    this.store = new PoolStore(ctx.storage.sql);
    this.metrics = new MetricsSampler(this.store);
    this.config = this.store.getMeta<PoolConfig>("config");
    this.stopped = this.store.getMeta<boolean>("stopped") ?? false;
    this.rhythm = new StoredRhythm(parseRhythm(this.store.getMeta("rhythm")), (rhythm) => this.store.setMeta("rhythm", rhythm));
    this.early = new EarlyOutputs<FinishedInput>({
      store: (containerId, finished) => this.outcomes.stored(containerId, finished),
      acknowledge: (containerId, ids) => this.fleet.acknowledge(containerId, ids),
      loadChanged: () => this.onLoadChange(),
      inputsWaiting: () => this.store.countInputs(this.clock.now()).readyNow > 0,
      defer: (flush, delayMs) => this.deferFlush(flush, delayMs),
    });
    this.outputReads = new OutputReads({ store: this.store, waiters: this.waiters, early: this.early, clock: this.clock });
    this.outcomes = new InputOutcomes({
      store: this.store,
      clock: this.clock,
      metrics: this.metrics,
      waiters: this.waiters,
      startGate: this.startGate,
      pace: this.pace,
      fleet: () => this.fleet,
      config: () => this.config,
      loadChanged: () => this.onLoadChange(),
      yielded: (callId) => this.streams.yielded(callId),
      early: this.early,
    });
    this.streams = new CallStreams(ctx.storage.sql, {
      store: this.store,
      grant: (containerId, grants) => this.fleet.send(containerId, { t: "stream_grants", grants }),
      notify: (callId) => this.notify(callId),
      waitFor: (callId, ms) => this.waiters.waitFor(callId, ms),
      end: (callId) => {
        const call = this.store.getCall(callId);
        return call && isDone(call) ? (this.store.outputs.read(callId, 0, 1)[0] ?? null) : null;
      },
      now: () => this.clock.now(),
    });
    // Plain objects, not this class: the parts' callbacks must not become RPC methods.
    const host: FleetHost = {
      store: this.store,
      startGate: this.startGate,
      clock: this.clock,
      env,
      config: () => this.config,
      startupTimeoutMs: () => this.startupTimeoutMs(),
      waitUntil: (promise) => ctx.waitUntil(promise),
      ready: (id, startupMs) => {
        if (startupMs !== null) this.rhythm.observeStartup(startupMs, this.clock.now());
        else this.streams.regrant(id);
      },
      items: (id, items) => this.streams.received(id, items),
      outputs: (id, outputs) => this.outcomes.runnerOutputs(id, outputs),
      startFailed: (id, message, error) => this.outcomes.startFailed(id, message, error),
      finish: (input, status, value, now) => this.outcomes.finish(input, status, value, now),
      loadChanged: () => this.onLoadChange(),
      reconcile: () => this.reconcile(),
      settle: () => this.early.flush(),
    };
    this.fleet = new ContainerFleet(host, this.createComputeBackend(env));
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAtMs = await ctx.storage.getAlarm();
    });
    // Containers outlive an eviction of this object: find them again.
    if (this.store.containers.all().length > 0) ctx.waitUntil(this.fleet.recover());
  }

  /** The compute backend; a test entry overrides this to inject one. */
  protected createComputeBackend(env: Env): ComputeBackend {
    return createBackend(env);
  }

  /** The pool's clock; a test entry may override this. */
  protected createClock(): Clock {
    return systemClock;
  }

  /** Runs `flush` delayMs from now, once this task's answers have left (a test entry may hold it, to look into the window before it). */
  protected deferFlush(flush: () => void, delayMs: number): void {
    setTimeout(flush, delayMs);
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
    this.early.flush();
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

  /** A call channel's upgrade, passed on by the Worker's channel route: its remote calls start here, as createCall's. */
  override fetch(request: Request): Response {
    return acceptChannel(request, {
      configure: (config) => this.configure(config),
      configVersion: () => this.config?.version ?? -1,
      stopped: () => this.stopped,
      startRemote: (args) => this.createCall(this.config!, args),
      putInputs: (workspaceId, callId, inputs, closed, method) => this.putInputs(workspaceId, callId, inputs, closed, method),
      readOutputs: (workspaceId, callId, cursor, waitMs, maxBytes) => this.readOutputs(workspaceId, callId, cursor, waitMs, maxBytes),
      admit: (tokenHash) => admitRequest(this.env, tokenHash, Date.now()),
      nowMs: () => this.clock.now(),
    });
  }

  async createCall(config: PoolConfig, args: CreateCallArgs): Promise<PoolResult<CallOutputs & { callId: string }>> {
    this.configure(config);
    const admitted = limits.admission(this.config, this.stopped, this.store.countInputs(this.clock.now()), args.inputs.length);
    // A resent request finds the call its first send started, even when admission would refuse a new one now.
    const earlier = !admitted.ok && args.requestId !== null ? this.store.callOfRequest(args.requestId) : null;
    const oneInput = args.kind === "remote";
    if (earlier) return ok({ callId: earlier, ...(await this.outputReads.read(earlier, 0, args.waitMs, { oneInput })) });
    if (!admitted.ok) return admitted;
    const now = this.clock.now();
    const callId = mintCallId(this.poolId, now);
    const inputs = args.inputs.map((i) => ({ ...i, method: args.method }));
    // One transaction: a call is never left without the inputs it came with. A remote call is held
    // by the store until the pump claims its input (its row written once, with the input running
    // on it) or writeFresh writes it.
    const started = this.ctx.storage.transactionSync(() => {
      const earlier = this.store.startCall(callId, args.kind, args.closed, now, args.requestId, inputs);
      if (earlier === null) this.pump();
      this.store.writeFresh();
      return earlier;
    });
    if (started) return ok({ callId: started, ...(await this.outputReads.read(started, 0, args.waitMs, { oneInput })) });
    this.reconcileSoon(); // the pump ran in the transaction above
    // Nothing has run yet: a call with inputs has no output to read before its first wait.
    return ok({ callId, ...(await this.outputReads.read(callId, 0, args.waitMs, { fresh: inputs.length > 0, oneInput })) });
  }

  putInputs(workspaceId: string, callId: string, inputs: InputItem[], closed: boolean, method: string | null): PoolResult<{ admitted: number }> {
    this.early.flush();
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
    const admitted = limits.admission(this.config, this.stopped, this.store.countInputs(this.clock.now()), fresh.length);
    if (!admitted.ok) return admitted;
    const added = this.store.addMapInputs(
      callId,
      fresh.map((i) => ({ ...i, method })),
    );
    if (closed) this.store.closeCall(callId);
    this.store.touches.touch([callId], this.clock.now());
    if (added > 0) this.onLoadChange();
    else if (closed) this.notify(callId);
    return ok({ admitted: added });
  }

  /**
   * A read of a call's outputs, as the CBOR of the route's answer: encoded
   * here, since an array of outputs crossing the RPC boundary is cloned
   * output by output on both sides.
   */
  async getOutputs(workspaceId: string, callId: string, cursor: number, waitMs: number): Promise<PoolResult<Uint8Array>> {
    const read = await this.readOutputs(workspaceId, callId, cursor, waitMs);
    return read.ok ? ok(outputsCbor(read.value)) : read;
  }

  /** Outputs after `cursor` (those before it are acknowledged: a map's are deleted), waiting up to waitMs for one. */
  private async readOutputs(workspaceId: string, callId: string, cursor: number, waitMs: number, maxBytes?: number): Promise<PoolResult<CallOutputs>> {
    this.early.flush();
    const call = this.ownCall(workspaceId, callId);
    if (!call.ok) return call;
    if (call.value.kind === "map" && cursor > 0) this.store.outputs.acknowledge(callId, cursor, this.clock.now());
    this.store.touches.touch([callId], this.clock.now());
    return ok(await this.outputReads.read(callId, cursor, waitMs, { oneInput: call.value.kind === "remote", maxBytes }));
  }

  /**
   * The results of several single-input calls of this pool (spawned, remote)
   * at once; waits up to waitMs for the first when none is ready. Calls that
   * are not this workspace's are missing, exactly like calls that never existed.
   */
  async readResults(
    workspaceId: string,
    callIds: readonly string[],
    waitMs: number,
  ): Promise<{ results: Array<{ callId: string; output: OutputItem }>; missing: string[] }> {
    this.early.flush();
    const own = this.config !== null && this.config.workspaceId === workspaceId;
    const existing = own ? this.store.existingCalls(callIds) : new Set<string>();
    const known = callIds.filter((id) => existing.has(id));
    const missing = callIds.filter((id) => !existing.has(id));
    let rows = this.store.outputs.firstOfCalls(known, limits.MAX_RESULT_BYTES_PER_READ);
    if (rows.length === 0 && known.length > 0 && waitMs > 0) {
      await this.waiters.waitForAny(known, Math.min(waitMs, MAX_WAIT_MS));
      rows = this.store.outputs.firstOfCalls(known, limits.MAX_RESULT_BYTES_PER_READ);
    }
    // A result read now stays readable for its TTL from now, as with a single call's read.
    this.store.touches.touch(
      rows.map((r) => r.callId),
      this.clock.now(),
    );
    return { results: rows.map((r) => ({ callId: r.callId, output: { idx: r.idx, status: r.status, value: r.value } })), missing };
  }

  /** A generator call's values from `from` on (those below it are taken as read), waiting up to waitMs for one; then its end. */
  async readStream(workspaceId: string, callId: string, from: number, waitMs: number): Promise<PoolResult<StreamRead>> {
    this.early.flush();
    const call = this.ownCall(workspaceId, callId);
    if (!call.ok) return call;
    this.store.touches.touch([callId], this.clock.now());
    return ok(await this.streams.read(callId, from, Math.min(Math.max(waitMs, 0), MAX_WAIT_MS)));
  }

  async cancelCall(workspaceId: string, callId: string): Promise<PoolResult<{ cancelledInputs: number }>> {
    this.early.flush();
    const call = this.ownCall(workspaceId, callId);
    if (!call.ok) return call;
    this.store.markCancelled(callId);
    const reason = "the call was cancelled";
    if (call.value.kind === "spawn" && call.value.total === 0) {
      // Not delivered from the spawn queue yet: it will never run.
      this.store.completeUndelivered(callId, encode(platformError("InputCancellation", reason)), this.clock.now());
      this.notify(callId);
      return ok({ cancelledInputs: 1 });
    }
    const cancelled = await this.outcomes.cancel(this.store.inputsOf(callId), reason);
    return ok({ cancelledInputs: cancelled });
  }

  // ---- spawned calls ----------------------------------------------------

  /** Reserves call ids for spawned calls; their inputs arrive through the spawn queue (deliverSpawns). */
  admitSpawns(config: PoolConfig, count: number): PoolResult<{ callIds: string[] }> {
    this.configure(config);
    if (this.stopped) return fail({ code: "CONFLICT", message: `app ${config.appName} is stopped; deploy it again to call it` });
    const counts = this.store.countInputs(this.clock.now());
    const pending = counts.pendingSpawns + counts.awaitingDelivery;
    if (pending + count > limits.MAX_PENDING_SPAWNS) {
      return fail({
        code: "RESOURCE_EXHAUSTED",
        message: `function ${config.functionName} has ${pending} pending spawned calls; the limit is ${limits.MAX_PENDING_SPAWNS}`,
        retryAfterMs: limits.RETRY_AFTER_MS * 10,
      });
    }
    const now = this.clock.now();
    const callIds = Array.from({ length: count }, () => mintCallId(this.poolId, now));
    this.store.createSpawnCalls(callIds, now);
    return ok({ callIds });
  }

  /** Hands spawned calls' inputs to the pool. At-least-once delivery: a call already delivered is skipped. */
  deliverSpawns(calls: SpawnDelivery[]): { delivered: number } {
    this.early.flush();
    const delivered = this.store.deliverSpawns(calls);
    if (delivered > 0) this.onLoadChange();
    return { delivered };
  }

  // ---- stats, stop, logs ------------------------------------------------

  stats(workspaceId: string): PoolResult<FunctionStats> {
    this.early.flush();
    if (!this.config || this.config.workspaceId !== workspaceId) return fail({ code: "NOT_FOUND", message: "function not found" });
    return ok(this.currentStats());
  }

  /** Stats, the last hour of metrics and the recent inputs, for the dashboard. */
  overview(workspaceId: string, sinceMs: number): PoolResult<{ stats: FunctionStats; metrics: MetricPoint[]; recent: HistoryRow[] }> {
    this.early.flush();
    if (!this.config || this.config.workspaceId !== workspaceId) return fail({ code: "NOT_FOUND", message: "function not found" });
    return ok({ stats: this.currentStats(), metrics: this.store.telemetry.metrics(sinceMs), recent: this.store.history.recent(50) });
  }

  private currentStats(): FunctionStats {
    return poolStats(this.store, this.config!, this.rhythm.value, this.startGate, this.clock.now());
  }

  /** Stops every container and cancels every pending and running input (`squall app stop`). */
  async stopAll(reason: string): Promise<{ cancelledInputs: number; stoppedContainers: number }> {
    this.early.flush();
    this.stopped = true;
    this.store.setMeta("stopped", true);
    const undelivered = this.store.undeliveredSpawns();
    const cancelledValue = encode(platformError("InputCancellation", reason));
    for (const callId of undelivered) {
      // Still in the spawn queue: give it its cancelled result now; a late delivery finds it cancelled.
      this.store.completeUndelivered(callId, cancelledValue, this.clock.now());
      this.store.markCancelled(callId);
      this.notify(callId);
    }
    const cancelledInputs = undelivered.length + (await this.outcomes.cancel(this.store.inputsOf(null), reason));
    const containers = this.store.containers.all();
    await Promise.all(containers.map((c) => this.fleet.stop(c.id, false)));
    await this.setAlarm(null);
    return { cancelledInputs, stoppedContainers: containers.length };
  }

  /** Removes the pool for good (an ephemeral app's end). */
  async destroy(): Promise<void> {
    await this.stopAll("the app was removed");
    this.fleet.clear();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.config = null;
  }

  readLogs(workspaceId: string, afterSeq: number, limit: number): PoolResult<ReturnType<PoolStore["telemetry"]["readLogs"]>> {
    this.early.flush();
    if (!this.config || this.config.workspaceId !== workspaceId) return fail({ code: "NOT_FOUND", message: "function not found" });
    return ok(this.store.telemetry.readLogs(afterSeq, Math.min(limit, 1_000)));
  }

  // ---- alarm --------------------------------------------------------------

  override async alarm(): Promise<void> {
    this.early.flush();
    this.alarmAtMs = null;
    const now = this.clock.now();
    this.store.history.write();
    await this.fleet.checkLiveness(now);
    await this.outcomes.timeOutOverdue(now);
    const expired = this.store.expiredCalls(now, limits.RESULT_TTL_MS, limits.ABANDONED_MAP_TTL_MS);
    for (const id of expired) {
      // An abandoned map may still have inputs on containers: cancel them there, so each container's count comes back down.
      const running = this.store.inputsOf(id).filter((i) => i.state === "running");
      if (running.length > 0) await this.outcomes.cancel(running, "the map call was abandoned: nobody read its outputs for an hour");
      this.store.deleteCall(id);
      this.streams.delete(id);
    }
    // Inputs whose retry delay has passed are ready now: send them, not only plan for them.
    this.onLoadChange();
    // A full sweep means more are waiting: the next one comes in a second, not in SWEEP_INTERVAL_MS.
    if (expired.length === EXPIRED_CALLS_PER_SWEEP) await this.setAlarm(this.clock.now() + SWEEP_BACKLOG_INTERVAL_MS);
  }

  // ---- outputs -----------------------------------------------------------

  private ownCall(workspaceId: string, callId: string): PoolResult<NonNullable<ReturnType<PoolStore["getCall"]>>> {
    const call = this.config && this.config.workspaceId === workspaceId ? this.store.getCall(callId) : null;
    if (!call) return fail({ code: "NOT_FOUND", message: `call ${callId} not found (results are kept for 24 hours)` });
    return ok(call);
  }

  private notify(callId: string): void {
    this.waiters.notify(callId);
  }

  // ---- scaling --------------------------------------------------------------

  private onLoadChange(): void {
    this.pump();
    this.reconcileSoon();
  }

  /**
   * Reconciles now, or once at the end of the current window if it already
   * did within it: with one-slot containers every output is a load change,
   * and the policy's answer does not move between outputs a millisecond
   * apart, while a reconcile costs several statements.
   */
  private reconcileSoon(): void {
    if (this.reconcileTimer !== null) return;
    const now = this.clock.now();
    const sinceMs = now - this.lastReconcileMs;
    if (sinceMs >= RECONCILE_WINDOW_MS || sinceMs < 0) {
      this.reconcile();
      return;
    }
    this.reconcileTimer = setTimeout(() => {
      this.reconcileTimer = null;
      this.reconcile();
    }, RECONCILE_WINDOW_MS - sinceMs);
  }

  /** Runs the autoscaler policy and acts on it, then sets the alarm for the next thing to check. */
  private reconcile(): void {
    this.early.flush();
    if (!this.config) return;
    const now = this.clock.now();
    this.lastReconcileMs = now;
    const settings = effectiveSettings(this.config);
    const counts = this.store.countInputs(now);
    const all = this.store.containers.all();
    // Containers of an older deployment, and draining ones, take no new inputs and go once empty.
    const retiring = (c: { id: string; deploymentId: string }): boolean => c.deploymentId !== this.config!.deploymentId || this.fleet.draining(c.id);
    const current = all.filter((c) => c.state !== "stopping" && !retiring(c));

    for (const c of all) {
      if (c.state !== "stopping" && retiring(c) && c.running === 0) void this.fleet.stop(c.id, true);
    }

    let wakeAtMs: number | null = null;
    let plannedStarts = 0;
    let plannedStops = 0;
    this.rhythm.observeLoad(counts.readyNow + counts.running > 0, now);
    if (!this.stopped) {
      const keepAlive = autoKeepAlive(settings, this.rhythm.value, now);
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
        for (let i = 0; i < allowed; i++) this.fleet.start();
        plannedStarts = allowed;
        wakeAtMs = earliest(wakeAtMs, this.startGate.heldBack(now)?.untilMs ?? null);
      }
      for (const id of plan.stop) void this.fleet.stop(id, true);
      plannedStops = plan.stop.length;
    }

    // Starts and stops above changed the containers; otherwise the rows read at the top still hold.
    const acted = all.length !== current.length || plannedStarts + plannedStops > 0;
    const containersNow = acted ? this.store.containers.all() : all;
    this.metrics.record(poolLoad(containersNow, counts), now);
    const next = nextWakeMs(now, {
      scalingAtMs: wakeAtMs,
      inputDeadlineMs: this.store.earliestDeadline(),
      retryReadyAtMs: this.store.earliestNotBefore(now),
      containersLive: containersNow.length > 0,
      earliestStartMs: this.store.containers.earliestStart(),
      startupTimeoutMs: this.startupTimeoutMs(),
      callsExist: this.store.hasCalls(),
      historyDueAtMs: this.store.history.writeDueAtMs(),
    });
    void this.setAlarm(next);
  }

  private async setAlarm(atMs: number | null): Promise<void> {
    if (atMs === null) {
      if (this.alarmAtMs !== null) {
        this.alarmAtMs = null;
        await this.ctx.storage.deleteAlarm();
      }
      return;
    }
    const at = alarmToSet(this.alarmAtMs, atMs, this.clock.now());
    if (at === null) return;
    this.alarmAtMs = at;
    await this.ctx.storage.setAlarm(at);
  }

  /** Sends pending inputs to the ready containers dispatch.ts picks. */
  private pump(): void {
    if (!this.config || this.stopped) return;
    const config = this.config;
    const ready = this.store.containers.all().filter((c) => c.state === "ready" && c.deploymentId === config.deploymentId && this.fleet.accepting(c.id));
    if (!ready.length) return;
    const now = this.clock.now();
    const { targetInputs, maxInputs, timeoutMs } = config.options;
    const { maxContainers } = effectiveSettings(config);
    const queuedInputs = this.pace.queuedInputs(maxInputs);
    const grants = planDispatch(ready, { targetInputs, maxInputs, maxContainers: maxContainers ?? null, queuedInputs }, this.store.countInputs(now).readyNow);
    for (const grant of grants) {
      const inputs = this.store.claimInputs(grant.containerId, grant.inputs, now, grant.queued ? null : now + timeoutMs);
      if (!inputs.length) continue;
      this.store.containers.addRunning(grant.containerId, inputs.length, now);
      this.fleet.sendInputs(grant.containerId, inputs);
    }
  }
}

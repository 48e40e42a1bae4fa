// How inputs end, or go round again: a runner's results (with retries after
// their backoff), timeouts (draining the container), cancellations, and the
// start-failure breaker failing what waits. Each final output is stored,
// counted for the metrics, and wakes its readers.
import type { OutputStatus } from "../../sdk/src/wire/api";
import type { RunnerOutput } from "../../sdk/src/wire/protocol";
import { encode, type SerializedError } from "../../sdk/src/wire/serialization";
import type { Clock } from "./clock";
import type { PoolConfig } from "./config";
import type { Fleet } from "./fleet";
import type { MetricsSampler } from "./metrics";
import type { StartGate } from "./start-gate";
import type { FinishedInput, PoolStore } from "./store";
import type { StoredInput } from "./store-schema";
import type { OutputWaiters } from "./waiters";
import type { InputPace } from "./prefetch";
import type { EarlyOutputs } from "./early-outputs";
import * as limits from "./limits";

export interface OutcomeDeps {
  readonly store: PoolStore;
  readonly clock: Clock;
  readonly metrics: MetricsSampler;
  readonly waiters: OutputWaiters;
  readonly startGate: StartGate;
  /** Learns how long inputs run, for how many to send ahead of free slots. */
  readonly pace: InputPace;
  fleet(): Fleet;
  config(): PoolConfig | null;
  /** Inputs or containers changed: dispatch and scale. */
  loadChanged(): void;
  /** Whether a call's generator has yielded values to its caller (such an input is not retried). */
  yielded(callId: string): boolean;
  /** Outputs answered before they are stored. */
  readonly early: EarlyOutputs<FinishedInput>;
}

export class InputOutcomes {
  constructor(private readonly deps: OutcomeDeps) {}

  /** An input's final output: stored, counted for the metrics, and its readers woken. */
  finish(input: { id: number; callId: string; idx: number }, status: OutputStatus, value: Uint8Array, now: number): void {
    this.finishAll([input], status, value, now);
  }

  /** Inputs that end the same way (cancelled, timed out, failed to start): stored in a few statements, not a few per input. */
  private finishAll(inputs: ReadonlyArray<{ id: number; callId: string; idx: number }>, status: OutputStatus, value: Uint8Array, now: number): void {
    if (!inputs.length) return;
    this.deps.store.completeMany(
      inputs.map((input) => ({ input, status, value })),
      now,
      this.deps.config()?.options.timeoutMs ?? 0,
    );
    this.deps.metrics.finished(status, inputs.length);
    for (const callId of new Set(inputs.map((i) => i.callId))) this.deps.waiters.notify(callId);
  }

  /** Cancels these inputs: each gets a cancelled output, and the runners running them are told. */
  async cancel(inputs: readonly StoredInput[], reason: string): Promise<number> {
    const { store } = this.deps;
    const value = encode(platformError("InputCancellation", reason));
    const now = this.deps.clock.now();
    const byContainer = new Map<string, number[]>();
    for (const input of inputs) {
      if (input.state === "running" && input.containerId) {
        const ids = byContainer.get(input.containerId) ?? [];
        ids.push(input.id);
        byContainer.set(input.containerId, ids);
        store.containers.addRunning(input.containerId, -1, now);
      }
    }
    this.finishAll(inputs, "cancelled", value, now);
    for (const [containerId, ids] of byContainer) this.deps.fleet().send(containerId, { t: "cancel", ids });
    if (inputs.length > 0) this.deps.loadChanged();
    return inputs.length;
  }

  async timeOutOverdue(now: number): Promise<void> {
    const { store } = this.deps;
    const config = this.deps.config();
    const overdue = store.overdue(now);
    if (!overdue.length || !config) return;
    const fleet = this.deps.fleet();
    const timeoutMs = config.options.timeoutMs;
    const value = encode(platformError("FunctionTimeoutError", `${config.functionName} timed out: an input ran longer than timeoutMs (${timeoutMs} ms)`));
    const stuck = new Map<string, number[]>();
    this.finishAll(overdue, "timeout", value, now);
    for (const input of overdue) {
      store.containers.addRunning(input.containerId, -1, now);
      stuck.set(input.containerId, [...(stuck.get(input.containerId) ?? []), input.id]);
    }
    // Inputs sent ahead that have not started would wait behind hung code: they go back to the queue.
    for (const [id, ids] of stuck) {
      const unstarted = store.runningOn(id).filter((i) => !i.started);
      for (const input of unstarted) store.requeue(input, now, {});
      if (unstarted.length > 0) store.containers.addRunning(id, -unstarted.length, now);
      ids.push(...unstarted.map((i) => i.id));
    }
    // The timed-out code may still be running (or hung), so its container goes: at once if it
    // runs nothing else, or once the other inputs on it finish, so that they do not run twice.
    const running = new Map(store.containers.all().map((c) => [c.id, c.running]));
    for (const [id, ids] of stuck) {
      if ((running.get(id) ?? 0) === 0) {
        await fleet.stop(id, true);
        continue;
      }
      fleet.send(id, { t: "cancel", ids });
      fleet.drain(id);
    }
    if (stuck.size > 0) this.deps.loadChanged();
  }

  /**
   * A runner's results: final, or a failure re-queued after its retry delay.
   * Returns the ids of outputs answered early and stored later
   * (early-outputs.ts): the fleet acknowledges those only once they are stored.
   */
  runnerOutputs(containerId: string, outputs: RunnerOutput[]): number[] {
    const config = this.deps.config();
    if (!config) return [];
    const { store } = this.deps;
    const now = this.deps.clock.now();
    const running = store.getRunning(
      outputs.map((o) => o.id),
      containerId,
    );
    const retries = config.options.retries;
    for (const input of running.values()) {
      if (input.deadline !== null) this.deps.pace.observe(now - (input.deadline - config.options.timeoutMs));
    }
    let requeued = 0;
    const final: FinishedInput[] = [];
    for (const o of outputs) {
      const input = running.get(o.id);
      if (!input) continue; // cancelled, timed out, or re-run elsewhere: this result is stale
      running.delete(o.id); // an output sent twice in one frame counts once
      if (o.status === "failure" && input.failures < retries.maxRetries && !this.deps.yielded(input.callId)) {
        const delay = Math.min(retries.initialDelayMs * retries.backoffCoefficient ** input.failures, retries.maxDelayMs);
        store.requeue(input, now + delay, { failure: true });
        requeued++;
        continue;
      }
      final.push({ input, status: o.status, value: o.value });
    }
    const { held, rest } = this.deps.early.hold(containerId, final);
    // Answered early: their readers wake now and read them from memory; nothing is written in this turn for them.
    for (const f of held) this.deps.waiters.notify(f.input.callId);
    this.stored(containerId, rest, requeued);
    return held.map((f) => f.input.id);
  }

  /** A container's final outputs stored (a few statements for the whole frame), counted and their readers woken; their slots, and `requeued` more, are free. */
  stored(containerId: string, final: FinishedInput[], requeued = 0): void {
    const { store } = this.deps;
    const now = this.deps.clock.now();
    store.completeMany(final, now, this.deps.config()?.options.timeoutMs ?? 0);
    for (const f of final) this.deps.metrics.finished(f.status);
    for (const callId of new Set(final.map((f) => f.input.callId))) this.deps.waiters.notify(callId);
    if (final.length + requeued > 0) store.containers.addRunning(containerId, -(final.length + requeued), now);
  }

  /** The container's own failure to start; the third in a row fails what waits instead of retrying forever. */
  startFailed(containerId: string, message: string, error?: SerializedError): void {
    this.deps.fleet().log(containerId, `a container failed to start: ${message}`);
    if (!this.deps.startGate.containerFailed(message, this.deps.clock.now())) return;
    const name = this.deps.config()?.functionName;
    const value = encode(
      error
        ? { ...error, message: `containers for ${name} failed to start ${limits.MAX_START_FAILURES} times: ${error.message}` }
        : platformError("RemoteError", `containers for ${name} failed to start ${limits.MAX_START_FAILURES} times: ${message}`),
    );
    const pending = this.deps.store.inputsOf(null).filter((input) => input.state === "pending");
    this.finishAll(pending, "platform_error", value, this.deps.clock.now());
  }
}

export function platformError(name: string, message: string): SerializedError {
  return { name, message };
}

// The autoscaler policy (docs/architecture.md "The FunctionPool Durable Object"): a pure function from settings, load,
// containers and time to what to start and stop. No I/O; the FunctionPool
// runs it on every load change and on its alarm.
import type { AutoscalerSettings } from "../../sdk/src/wire/options";

export interface ScalingConfig extends Omit<AutoscalerSettings, "scaledownWindowMs"> {
  /** A fixed window, or the one `decideKeepAlive` chose for "auto". */
  scaledownWindowMs: number;
  /** Inputs one container is planned to serve at once. */
  targetInputs: number;
}

export interface PoolLoad {
  /** Inputs waiting for a container (ready to run now). */
  pending: number;
  /** Inputs running on containers. */
  running: number;
}

export type ContainerPhase = "starting" | "idle" | "busy";

export interface ContainerView {
  id: string;
  phase: ContainerPhase;
  /** When it last became idle (ms); null unless idle. */
  idleSinceMs: number | null;
}

export interface ScalingPlan {
  /** How many containers to start now. */
  start: number;
  /** Containers to stop now, most idle first. */
  stop: string[];
  /** When the policy wants to run again (an idle container's window ends); null: only on load changes. */
  wakeAtMs: number | null;
  /** The container count the policy aims for. */
  desired: number;
}

export function desiredContainers(config: ScalingConfig, load: PoolLoad): number {
  const inputs = load.pending + load.running;
  const forLoad = Math.ceil(inputs / config.targetInputs);
  // Buffer containers absorb the next burst, but only while there is work:
  // an idle function scales to its floor, by default zero.
  const withBuffer = inputs > 0 ? forLoad + config.bufferContainers : 0;
  const floored = Math.max(config.minContainers, withBuffer);
  return config.maxContainers === null ? floored : Math.min(config.maxContainers, floored);
}

export function planScaling(config: ScalingConfig, load: PoolLoad, containers: readonly ContainerView[], nowMs: number): ScalingPlan {
  const desired = desiredContainers(config, load);
  // Starting containers count as capacity, so a burst is not asked for twice.
  const live = containers.length;
  const start = Math.max(0, desired - live);

  const idle = containers.filter((c) => c.phase === "idle").sort((a, b) => (a.idleSinceMs ?? nowMs) - (b.idleSinceMs ?? nowMs));
  const stop: string[] = [];
  let remaining = live;

  // Over the ceiling (an override lowered maxContainers): idle ones go at once.
  const ceiling = config.maxContainers ?? Infinity;
  for (const c of idle) {
    if (remaining <= ceiling) break;
    stop.push(c.id);
    remaining--;
  }

  // Past the scale-down window: stop the most idle first, keeping what is still wanted.
  let wakeAtMs: number | null = null;
  for (const c of idle) {
    if (stop.includes(c.id)) continue;
    if (remaining <= desired) break;
    const windowEndsMs = (c.idleSinceMs ?? nowMs) + config.scaledownWindowMs;
    if (windowEndsMs <= nowMs) {
      stop.push(c.id);
      remaining--;
    } else {
      wakeAtMs = wakeAtMs === null ? windowEndsMs : Math.min(wakeAtMs, windowEndsMs);
    }
  }
  return { start, stop, wakeAtMs, desired };
}

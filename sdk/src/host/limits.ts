// How much a local container host runs at once. Past these it refuses starts
// with 429 (a capacity error to the pool, which waits and keeps its inputs
// queued) instead of forking runner processes until the machine gives way.
import { availableParallelism, totalmem } from "node:os";
import { MAX_CONTAINERS_ENV, MAX_STARTS_ENV } from "../wire/host.js";

export interface HostLimits {
  /** Containers running or starting at once. */
  maxContainers: number;
  /** Starts in progress at once. */
  maxStarts: number;
}

export interface Machine {
  cores: number;
  memoryBytes: number;
}

/** Runner processes per core: most user code waits on I/O, so a core serves many. */
const CONTAINERS_PER_CORE = 16;
/** Memory planned per runner (a runner is ~50 MB before user code), over half the machine's memory. */
const MEMORY_PER_CONTAINER_BYTES = 256 * 1024 * 1024;
const MEMORY_SHARE = 0.5;
/** Never below what `npm run demo` runs at once (10 containers). */
const MIN_CONTAINERS = 10;
/** Starting a runner is a Node cold start, CPU-bound: a few per core at once. */
const STARTS_PER_CORE = 4;
const MIN_STARTS = 4;

/** The limits for a machine of this size. */
export function defaultLimits(machine: Machine): HostLimits {
  const byCores = machine.cores * CONTAINERS_PER_CORE;
  const byMemory = Math.floor((machine.memoryBytes * MEMORY_SHARE) / MEMORY_PER_CONTAINER_BYTES);
  return {
    maxContainers: Math.max(MIN_CONTAINERS, Math.min(byCores, byMemory)),
    maxStarts: Math.max(MIN_STARTS, machine.cores * STARTS_PER_CORE),
  };
}

export function thisMachine(): Machine {
  return { cores: availableParallelism(), memoryBytes: totalmem() };
}

/** Options first, then env vars (SQUALL_LOCAL_MAX_CONTAINERS, SQUALL_LOCAL_MAX_STARTS), then the machine's defaults. */
export function resolveLimits(options: Partial<HostLimits>, env: Record<string, string | undefined>, machine: Machine): HostLimits {
  const defaults = defaultLimits(machine);
  return {
    maxContainers: options.maxContainers ?? fromEnv(env, MAX_CONTAINERS_ENV) ?? defaults.maxContainers,
    maxStarts: options.maxStarts ?? fromEnv(env, MAX_STARTS_ENV) ?? defaults.maxStarts,
  };
}

function fromEnv(env: Record<string, string | undefined>, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number of at least 1, not ${JSON.stringify(raw)}`);
  return value;
}

export function checkLimit(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new Error(`${name} must be a whole number of at least 1, not ${value}`);
}

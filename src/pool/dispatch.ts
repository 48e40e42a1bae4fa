// Which ready containers get how many of the pending inputs: pure policy, no
// I/O (like autoscaler.ts). The pool claims and sends what this grants, in order.

export interface DispatchContainer {
  id: string;
  /** Inputs it runs now. */
  running: number;
}

export interface DispatchLimits {
  targetInputs: number;
  maxInputs: number;
  /** Only this many containers are fed (null: no limit). */
  maxContainers: number | null;
  /** Inputs a container may be sent beyond maxInputs, to wait there for a slot (prefetch.ts). */
  queuedInputs: number;
}

export interface Grant {
  containerId: string;
  inputs: number;
  /** Beyond the container's slots: they wait there, and their timeouts start when they do. */
  queued: boolean;
}

/**
 * Up to targetInputs per container, then bursting to maxInputs. Busiest first,
 * so inputs pack onto few containers and the spare ones go idle and can scale
 * down. Only the busiest maxContainers are fed: after maxContainers is
 * lowered, the rest empty out and the autoscaler stops them, backlog or not.
 * Then, while inputs are left, each fed container is sent up to queuedInputs
 * more to hold for its next free slot, so that it never idles while an output
 * travels to the pool and the next input travels back.
 * A container may get a grant per pass, each sent as its own frames.
 */
export function planDispatch(ready: readonly DispatchContainer[], limits: DispatchLimits, pending: number): Grant[] {
  const fed = [...ready]
    .sort((a, b) => b.running - a.running)
    .slice(0, limits.maxContainers ?? Infinity)
    .map((c) => ({ id: c.id, running: c.running }));
  const grants: Grant[] = [];
  let left = pending;
  const passes = limits.targetInputs < limits.maxInputs ? [limits.targetInputs, limits.maxInputs] : [limits.maxInputs];
  if (limits.queuedInputs > 0) passes.push(limits.maxInputs + limits.queuedInputs);
  for (const perContainer of passes) {
    const queued = perContainer > limits.maxInputs;
    for (const c of fed) {
      const n = Math.min(perContainer - c.running, left);
      // A queue is topped up by half of it at a time: fewer, fuller frames, and still never empty.
      if (n <= 0 || (queued && n < Math.min(Math.ceil(limits.queuedInputs / 2), left))) continue;
      grants.push({ containerId: c.id, inputs: n, queued });
      c.running += n;
      left -= n;
    }
  }
  return grants;
}

// The containers of one local container host: starting and stopping runner
// processes, and remembering recently exited ones so a pool can ask why a
// container went away.
import type { HostedContainer, StartContainerRequest } from "../wire/host.js";
import { HostError, PortTakenError } from "./errors.js";
import { pickFreePort } from "./ports.js";
import { RunnerProcess } from "./runner-process.js";

/** SIGTERM gives a runner time to flush results (it exits within 2 s); after this it is killed. */
const KILL_GRACE_MS = 3_000;
/** Exited containers remembered; older ones are forgotten. */
const MAX_EXITED_RECORDS = 1_000;
/** Starts retried when the picked port was taken before the runner bound it. */
const MAX_PORT_ATTEMPTS = 3;

/** A full host: room comes back when some pool stops a container, which takes a while. */
const FULL_RETRY_AFTER_MS = 2_000;
/** Too many starts at once: one takes a fraction of a second. */
const STARTS_RETRY_AFTER_MS = 500;

export interface ContainerSetOptions {
  runnerPath: string;
  log: (line: string) => void;
  /** Containers running or starting at once; past it a start is refused with 429. */
  maxContainers: number;
  /** Starts in progress at once; past it a start is refused with 429. */
  maxStarts: number;
}

export class ContainerSet {
  private readonly records = new Map<string, RunnerProcess>();
  private readonly exitedOrder: RunnerProcess[] = [];
  /** Ids between the duplicate check and their process existing. */
  private readonly starting = new Set<string>();
  private closing = false;
  /** Last resort if the host process exits without close(): runners must not outlive it. */
  private readonly killAll = (): void => {
    for (const p of this.records.values()) p.kill("SIGKILL");
  };

  constructor(private readonly options: ContainerSetOptions) {
    process.on("exit", this.killAll);
  }

  get limits(): { maxContainers: number; maxStarts: number } {
    return { maxContainers: this.options.maxContainers, maxStarts: this.options.maxStarts };
  }

  async start(request: StartContainerRequest): Promise<HostedContainer> {
    const { id } = request;
    if (this.closing) throw new HostError(503, "UNAVAILABLE", "the container host is shutting down");
    if (this.starting.has(id) || this.records.get(id)?.running) throw new HostError(409, "CONFLICT", `container ${id} is already running`);
    this.checkRoom();
    this.starting.add(id);
    try {
      for (let attempt = 1; ; attempt++) {
        const proc = new RunnerProcess({ id, env: request.env, port: await pickFreePort(), ...this.options });
        this.track(proc);
        try {
          await proc.waitUntilListening();
          return { ...proc.info };
        } catch (err) {
          if (!(err instanceof PortTakenError) || attempt >= MAX_PORT_ATTEMPTS) throw err;
        }
      }
    } finally {
      this.starting.delete(id);
    }
  }

  /** Stops a container (SIGTERM, then SIGKILL); null if unknown. An exited one is just described. */
  async stop(id: string): Promise<HostedContainer | null> {
    const proc = this.records.get(id);
    if (!proc) return null;
    if (proc.running) {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), KILL_GRACE_MS);
      await proc.exited;
      clearTimeout(timer);
    }
    return { ...proc.info };
  }

  get(id: string): HostedContainer | null {
    const proc = this.records.get(id);
    return proc ? { ...proc.info } : null;
  }

  list(): HostedContainer[] {
    return [...this.records.values()].map((p) => ({ ...p.info }));
  }

  /** Stops every running container and refuses new ones. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.records.values()].filter((p) => p.running).map((p) => this.stop(p.info.id)));
    process.off("exit", this.killAll);
  }

  /** Refuses a start past the host's limits: the caller waits and asks again; nothing is queued here. */
  private checkRoom(): void {
    const { maxContainers, maxStarts } = this.options;
    if (this.starting.size >= maxStarts) {
      throw new HostError(
        429,
        "RESOURCE_EXHAUSTED",
        `the local container host is already starting ${this.starting.size} containers (at most ${maxStarts} at once)`,
        STARTS_RETRY_AFTER_MS,
      );
    }
    let live = this.starting.size;
    for (const [id, p] of this.records) if (p.running && !this.starting.has(id)) live++;
    if (live >= maxContainers) {
      throw new HostError(429, "RESOURCE_EXHAUSTED", `the local container host runs ${live} containers, its limit (${maxContainers})`, FULL_RETRY_AFTER_MS);
    }
  }

  private track(proc: RunnerProcess): void {
    this.records.set(proc.info.id, proc);
    void proc.exited.then(() => {
      this.exitedOrder.push(proc);
      while (this.exitedOrder.length > MAX_EXITED_RECORDS) {
        const old = this.exitedOrder.shift()!;
        // The id may since belong to a newer process: forget only this one.
        if (this.records.get(old.info.id) === old) this.records.delete(old.info.id);
      }
    });
  }
}

// The BullMQ side: a Queue and QueueEvents in this process (the client), one
// Worker with concurrency 100 in a child process (like one Squall container
// with 100 slots), all on the benchmark's own redis-server.
import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { Queue, QueueEvents, type Job } from "bullmq";
import { ROOT } from "../platform";

const WORKER = join(ROOT, "scripts", "bench", "bullmq-worker.ts");
/** Completed events kept in the events stream: more than any workload adds, so the reader never misses one. */
const EVENTS_MAX_LEN = 2_000_000;
const ADD_BATCH = 1_000;

export type BullKind = "noop" | "sleep10";

export class BullSide {
  private constructor(
    private readonly queue: Queue<number, number>,
    private readonly events: QueueEvents,
    private readonly worker: ChildProcess,
  ) {}

  static async start(port: number, name: string, kind: BullKind, concurrency = 100): Promise<BullSide> {
    const connection = { host: "127.0.0.1", port, maxRetriesPerRequest: null };
    const queue = new Queue<number, number>(name, { connection, streams: { events: { maxLen: EVENTS_MAX_LEN } } });
    const events = new QueueEvents(name, { connection });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    const worker = fork(WORKER, [String(port), name, kind, String(concurrency)], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    await new Promise<void>((resolve, reject) => {
      worker.once("message", () => resolve());
      worker.once("exit", (code) => reject(new Error(`the BullMQ worker exited with code ${code}`)));
    });
    return new BullSide(queue, events, worker);
  }

  get workerPid(): number {
    return this.worker.pid ?? -1;
  }

  /** add + job.waitUntilFinished, one job in flight; returns each round trip in ms. */
  async roundTrips(n: number, warmup: number): Promise<number[]> {
    const samples: number[] = [];
    for (let i = 0; i < warmup + n; i++) {
      const t = performance.now();
      const job: Job<number, number> = await this.queue.add("rt", i, { removeOnComplete: 1_000 });
      const value = await job.waitUntilFinished(this.events);
      const ms = performance.now() - t;
      if (value !== i) throw new Error(`BullMQ round trip returned ${value} for ${i}`);
      if (i >= warmup) samples.push(ms);
    }
    return samples;
  }

  /**
   * Adds n jobs with addBulk (batches of 1 000) and waits for every one's
   * completed event (with its return value, as a map yields results).
   * Returns the elapsed ms from the first add to the last completion.
   */
  async bulk(n: number): Promise<{ ms: number; addMs: number }> {
    let completed = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const onCompleted = (): void => {
      if (++completed === n) resolveDone();
    };
    this.events.on("completed", onCompleted);
    try {
      const t = performance.now();
      for (let i = 0; i < n; i += ADD_BATCH) {
        const jobs = [];
        for (let j = i; j < Math.min(n, i + ADD_BATCH); j++) jobs.push({ name: "job", data: j, opts: { removeOnComplete: true } });
        await this.queue.addBulk(jobs);
      }
      const addMs = performance.now() - t;
      await done;
      return { ms: performance.now() - t, addMs };
    } finally {
      this.events.off("completed", onCompleted);
    }
  }

  async close(): Promise<void> {
    const exited = new Promise<void>((r) => (this.worker.exitCode !== null ? r() : this.worker.once("exit", () => r())));
    this.worker.send("stop");
    const timer = setTimeout(() => this.worker.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
    await this.queue.obliterate({ force: true }).catch(() => undefined);
    await Promise.all([this.events.close(), this.queue.close()]);
  }
}

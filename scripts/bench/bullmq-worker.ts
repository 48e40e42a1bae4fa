// The BullMQ worker process: one Worker with concurrency 100 running the
// benchmark's shared function bodies (bench/apps/bodies.ts).
// argv: <redis port> <queue name> <noop|sleep10> <concurrency>
import { Worker } from "bullmq";
import { noopBody, sleepBody } from "../../bench/apps/bodies";

const [port, queueName, kind, concurrency] = process.argv.slice(2);
const body = kind === "sleep10" ? (x: number) => sleepBody(x, 10) : (x: number) => noopBody(x);

const worker = new Worker<number, number>(queueName, async (job) => body(job.data), {
  connection: { host: "127.0.0.1", port: Number(port), maxRetriesPerRequest: null },
  concurrency: Number(concurrency),
});
await worker.waitUntilReady();
process.send?.("ready");
process.on("message", (m) => {
  if (m === "stop") void worker.close().then(() => process.exit(0));
});

// `npm run demo`: the local platform, the example apps deployed, and the
// scale-out scenario with the autoscaler at work, printed as it happens.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./platform";
import { startDev } from "./dev";
import { Client } from "../sdk/src/index";

const BURST = 100;

function squall(args: string[]): void {
  execFileSync(process.execPath, [join(ROOT, "sdk", "dist", "cli", "main.js"), ...args], { cwd: ROOT, stdio: "inherit" });
}

function bar(n: number, max: number): string {
  return "█".repeat(n) + "·".repeat(Math.max(0, max - n));
}

const { platform, token } = await startDev({ quiet: true });
let exitCode = 0;
try {
  console.log(`\nSquall is running locally at ${platform.url}\n`);
  squall(["deploy", "examples/hello.ts"]);
  squall(["deploy", "examples/scale-out.ts"]);

  const client = new Client({ url: platform.url, token });
  const square = await client.functions.fromName("hello", "square");
  console.log(`\nhello.square.remote(12) = ${await square.remote(12)}`);

  const evaluateModel = await client.functions.fromName("scale-out", "evaluateModel");
  console.log(`\nscale-out: ${BURST} one-second inputs, maxContainers 10, bufferContainers 2, scaledownWindowMs 5000\n`);
  const started = Date.now();
  let done = 0;
  let peak = 0;
  const sample = async (): Promise<void> => {
    const s = await evaluateModel.getCurrentStats();
    peak = Math.max(peak, s.containers.total);
    const t = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
    console.log(
      `${t}s  containers ${bar(s.containers.total, 10)} ${String(s.containers.total).padStart(2)} (starting ${s.containers.starting}, busy ${s.containers.busy}, idle ${s.containers.idle})  backlog ${String(s.backlog).padStart(3)}  done ${done}/${BURST}`,
    );
  };
  // A sample that fails is only a line missing from the demo's output.
  const watch = setInterval(() => void sample().catch((err: unknown) => console.log(`stats: ${(err as Error).message}`)), 500);
  let sum = 0;
  for await (const y of evaluateModel.map(Array.from({ length: BURST }, (_, i) => i))) {
    sum += y as number;
    done++;
  }
  const elapsed = (Date.now() - started) / 1000;
  console.log(`\nall ${BURST} inputs done in ${elapsed.toFixed(1)} s (sum of squares ${sum}); serially they would take ${BURST} s`);
  console.log("waiting for the pool to scale back to zero…");
  for (let i = 0; i < 60; i++) {
    const s = await evaluateModel.getCurrentStats();
    if (s.containers.total === 0) break;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  clearInterval(watch);
  const final = await evaluateModel.getCurrentStats();
  console.log(`\npeak containers: ${peak}; containers now: ${final.containers.total}`);
  if (final.containers.total !== 0) {
    console.error("the pool did not scale back to zero");
    exitCode = 1;
  }
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  await platform.close();
}
process.exit(exitCode);

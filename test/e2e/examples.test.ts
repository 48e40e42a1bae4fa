// Every example in examples/ runs, with the real CLI against the real local
// platform, and prints what it promises (issue 13, point 6). They are
// type-checked by `npm run typecheck` (examples/tsconfig.json).
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { describe, it, expect, beforeAll } from "vitest";
import { ROOT, deploy, platformEnv, squall } from "./helpers";

/** Examples run by another suite, next to the feature they show. */
const RUN_ELSEWHERE: Record<string, string> = {
  "hello.ts": "foundation.test.ts (deploy, and squall run)",
  "client.mjs": "foundation.test.ts (a plain Node program)",
  "autoscaling.ts": "autoscaling.test.ts (squall run); deployed here for lookup-by-name.ts",
};

const RUN_HERE: Array<[string, RegExp[]]> = [
  [
    "examples/parallel.ts",
    [
      /squares: 0, 1, 4, 9, 16, 25, 36, 49, 64, 81/,
      /sums: 3, 7, 11/,
      /as completed: 1, 9, 25/,
      /forEach: done/,
      /gathered: 100, 121, 144/,
      /first spawned result: 0 \| last: 16/,
    ],
  ],
  [
    "examples/exceptions.ts",
    [
      /remote\(\): InvalidAgeError: age must not be negative, got -1 \(age -1; cause RangeError: age < 0, a RangeError: true\)/,
      /map\(\): InvalidAgeError from input 1: age must not be negative, got -2/,
      /returnExceptions: 30 ok\nreturnExceptions: UserCodeException caused by InvalidAgeError\nreturnExceptions: 40 ok/,
      /wrapReturnedExceptions false: InvalidAgeError \(age -4\)\nwrapReturnedExceptions false: 50 ok/,
      /retries: succeeded on attempt 3/,
      /timeout: FunctionTimeoutError/,
    ],
  ],
  ["examples/async-usage.ts", [/results: 2, 4, 6, 8, 10 in/, /map over an async generator: 100 of 100 ok/, /spawned result: 42/]],
  ["examples/scaling-limits.ts", [/map of 100000 inputs: sum 4999950000/, /spawnMap of 10000 calls/, /500 concurrent remote\(\) calls: 500 results/]],
  [
    "examples/streaming.ts",
    [
      /streamed: you asked: why is the sky blue\?/,
      /ticker stopped at 104/,
      /sensor: 20, 21, 22 then sensor disconnected/,
      /spawned stream: you asked: spawned/,
      /remote\(\) of a generator: generate is a generator function \(async function\*\): generate\.remote\(\) cannot run it; stream what it yields with generate\.remoteGen\(\.\.\.\)/,
    ],
  ],
  [
    "examples/batching.ts",
    [
      /embed\.remote\("hello"\) = \[5, …\]/,
      /20 concurrent calls: 20 vectors, each its own \(true\), largest batch [1-8] \(limit 8\)/,
      /map: 1, 2, 3/,
      /classify: negative, positive, positive/,
      /broken: BatchLengthError: broken is batched: called with a batch of 1 inputs, it must return an array of 1 results \(one per input, in order\), but returned an array of length 0/,
    ],
  ],
  ["examples/scale-out.ts", [/sum of squares of 0\.\.99 = 328350/]],
  ["examples/time-based.ts", [/daytimeServer: minContainers [02] \(from (declared|schedule)\), \d+ containers now/, /inferenceServer\(21\) = 42/]],
  [
    "examples/variants.ts",
    [
      /backfill: 12 rows on 1 container/,
      /variant \[maxContainers=1,timeoutMs=60000,maxInputs=4\]: maxContainers 1, 1 container/,
      /enrich's own pool: maxContainers 10, 0 containers/,
      /after updateAutoscaler on the variant: variant 2, own 10/,
      /refused: function "enrich": option "maxContainers" must be between 1 and 1000, got 0/,
    ],
  ],
  ["examples/sync-concurrency.ts", [/4 blocking inputs of 1 s on one container: done in \d+\.\d s/, /ran on [1-4] threads?, none on the main thread: true/]],
  [
    "examples/gotchas.ts",
    [
      /square\.remote\(3\) = 9/,
      /square\.map\(\[1, 2, 3\]\) = 1, 4, 9/,
      /for await over a map: sum 14/,
      /Model 3\.5: 3\.5: 2/,
      /caught before sending: argument 1 of square\.remote\(\): \.valueOf \(a function\) cannot be serialized/,
    ],
  ],
];

describe("examples", () => {
  it("every file in examples/ is run by a test", () => {
    const files = readdirSync(resolve(ROOT, "examples")).filter((f) => /\.(ts|mjs)$/.test(f));
    const covered = new Set([...Object.keys(RUN_ELSEWHERE), ...RUN_HERE.map(([file]) => file.replace("examples/", "")), "lookup-by-name.ts"]);
    expect(files.filter((f) => !covered.has(f))).toEqual([]);
  });

  for (const [file, expected] of RUN_HERE) {
    it(`${file} runs with squall run and prints its results`, async () => {
      const r = await squallWithin(100_000, ["run", file]);
      expect(r.stderr).not.toMatch(/error: /);
      expect(r.code).toBe(0);
      for (const line of expected) expect(r.stdout).toMatch(line);
    }, 120_000);
  }

  it("examples/time-based.ts deploys with its schedules and scaling schedule", async () => {
    await deploy("examples/time-based.ts");
    const list = await squall(["schedule", "list", "time-based"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/increaseWarmPool\s+run, cron "0 6 \* \* \*"\s+America\/New_York/);
    expect(list.stdout).toMatch(/decreaseWarmPool\s+run, cron "0 22 \* \* \*"/);
    expect(list.stdout).toMatch(/daytimeServer\s+scale minContainers=2, cron "0 6 \* \* \*"/);
  });
});

describe("examples/lookup-by-name.ts: a client script, with no functions of its own", () => {
  beforeAll(() => deploy("examples/autoscaling.ts"));

  it("runs with squall run, deploying nothing, and its overrides merge field by field", async () => {
    const before = await appNames();
    const r = await squallWithin(100_000, ["run", "examples/lookup-by-name.ts"]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("evaluateModel(7) = 49");
    expect(r.stdout).toContain("evaluateModel: minContainers 4 (override), maxContainers 10 (override)");
    expect(r.stdout).toContain("Model 3.5 predict(3) = 3.5: 6");
    expect(r.stdout).toContain("bufferContainers: Model 3.5 2, Model 4.0 0");
    // Nothing was deployed for it, not even for a moment.
    expect(await appNames()).toEqual(before);
    const deploys = (await squall(["app", "list", "--json"])).stdout;
    expect(deploys).not.toMatch(/lookup-by-name/);
  }, 120_000);

  it("squall deploy still refuses an app without functions", async () => {
    const r = await squall(["deploy", "examples/lookup-by-name.ts"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("app lookup-by-name defines no functions");
  });

  it("its entrypoint's Client reaches the platform named by --url and --token", async () => {
    const env = platformEnv();
    const { SQUALL_URL: url, SQUALL_TOKEN: token } = env;
    // No platform in the environment or a profile: only the flags name it.
    const bare = { ...env, SQUALL_URL: "", SQUALL_TOKEN: "", SQUALL_CONFIG_PATH: resolve(ROOT, "no-such-squall.toml") };
    const r = await squallWithin(100_000, ["run", "examples/lookup-by-name.ts", "--url", url!, "--token", token!], bare);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.stdout).toContain("evaluateModel(7) = 49");
  }, 120_000);
});

async function appNames(): Promise<string[]> {
  const list = JSON.parse((await squall(["app", "list", "--json"])).stdout) as { apps: Array<{ name: string }> };
  return list.apps.map((a) => a.name).sort();
}

/** `squall ARGS`, killed after `ms` (an example that hangs must fail the test, not outlive it). */
function squallWithin(ms: number, args: string[], env: NodeJS.ProcessEnv = platformEnv()): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    execFile(
      process.execPath,
      [resolve(ROOT, "sdk/bin/squall.js"), ...args],
      { cwd: ROOT, env, timeout: ms, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        resolveRun({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

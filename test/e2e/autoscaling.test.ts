// Issue "Autoscaler": warm pools, bursts up to maxContainers, scale-down to
// zero, input concurrency, live overrides that revert on deploy, and class
// instances with pools of their own, on the real local platform.
import { describe, it, expect, beforeAll } from "vitest";
import { InvalidError, NotFoundError, type FunctionStats } from "../../sdk/src/index";
import { client, deploy, sleep, squall, until } from "./helpers";

const APP_FILE = "test/e2e/apps/autoscaling.ts";

describe("autoscaler", () => {
  beforeAll(async () => {
    await deploy(APP_FILE);
  });

  it("keeps minContainers warm while idle", async () => {
    const warm = await client().functions.fromName("autoscaling", "warm");
    await until(
      "2 warm containers",
      () => warm.getCurrentStats(),
      (s) => s.containers.idle === 2,
    );
    // Well past its 2 s scale-down window, the floor holds.
    await sleep(4_000);
    const s = await warm.getCurrentStats();
    expect(s.containers.total).toBe(2);
    expect(s.runningInputs).toBe(0);
  });

  it("scales a burst out to maxContainers and no further, then back to zero after the window", async () => {
    const burst = await client().functions.fromName<[number], string>("autoscaling", "burst");
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, (await burst.getCurrentStats()).containers.total);
        await sleep(150);
      }
    })();
    const containers = await burst.map(Array.from({ length: 12 }, () => 1_000)).toArray();
    sampling = false;
    await sampler;
    expect(new Set(containers).size).toBe(3);
    expect(peak).toBe(3);
    await until(
      "scale to zero",
      () => burst.getCurrentStats(),
      (s) => s.containers.total === 0,
      20_000,
    );
  });

  it("honours a lowered maxContainers during a burst, not only once the backlog drains", async () => {
    const shrinkable = await client().functions.fromName<[number], string>("autoscaling", "shrinkable");
    const run = shrinkable.map(Array.from({ length: 60 }, () => 500)).toArray();
    await until(
      "4 containers at work",
      () => shrinkable.getCurrentStats(),
      (s) => s.containers.total === 4 && s.backlog > 0,
    );
    await shrinkable.updateAutoscaler({ maxContainers: 1 });
    const shrunk = await until(
      "the pool down to 1 container",
      () => shrinkable.getCurrentStats(),
      (s) => s.containers.total <= 1,
    );
    expect(shrunk.backlog, "inputs still waiting when the pool got down to 1 container").toBeGreaterThan(0);
    await shrinkable.updateAutoscaler({ maxContainers: 4 });
    expect(await run).toHaveLength(60);
  });

  it("runs up to maxInputs inputs at once on one container: 40 one-second inputs in about 4 s", async () => {
    const concurrent = await client().functions.fromName<[number], number>("autoscaling", "concurrent");
    await concurrent.remote(1); // a warm container, so the timing below is the inputs' own
    const started = Date.now();
    const peaks = await concurrent.map(Array.from({ length: 40 }, () => 1_000)).toArray();
    const seconds = (Date.now() - started) / 1_000;
    expect(Math.max(...peaks)).toBe(10);
    expect(seconds).toBeGreaterThanOrEqual(4);
    expect(seconds).toBeLessThan(8);
    expect((await concurrent.getCurrentStats()).containers.total).toBe(1);
  });

  it("fills each container up to targetInputs, then bursts to maxInputs once the pool is at maxContainers", async () => {
    const targeted = await client().functions.fromName<[number], { container: string; alongside: number }>("autoscaling", "targeted");
    await targeted.updateAutoscaler({ minContainers: 2 }); // both containers ready before the inputs arrive
    await until(
      "2 warm containers",
      () => targeted.getCurrentStats(),
      (s) => s.containers.idle === 2,
    );
    const peakPerContainer = (results: { container: string; alongside: number }[]): Map<string, number> => {
      const peaks = new Map<string, number>();
      for (const r of results) peaks.set(r.container, Math.max(peaks.get(r.container) ?? 0, r.alongside));
      return peaks;
    };
    // 4 inputs: 2 on each container (targetInputs), not 4 on one.
    expect([...peakPerContainer(await targeted.map([1_500, 1_500, 1_500, 1_500]).toArray()).values()]).toEqual([2, 2]);
    // 8 inputs with both containers full at 2: each bursts to 4 (maxInputs).
    expect([...peakPerContainer(await targeted.map(Array.from({ length: 8 }, () => 1_500)).toArray()).values()]).toEqual([4, 4]);
    await targeted.updateAutoscaler({ minContainers: 0 });
  });

  it("keeps bufferContainers idle containers ready while inputs run, and none once they are done", async () => {
    const buffered = await client().functions.fromName<[number], string>("autoscaling", "buffered");
    const running = buffered.remote(6_000);
    const during = await until(
      "1 busy and 1 idle buffer container",
      () => buffered.getCurrentStats(),
      (s) => s.containers.busy === 1 && s.containers.idle === 1,
    );
    expect(during.containers.total).toBe(2);
    expect(during.autoscalerSources?.bufferContainers).toBe("declared");
    await running;
    await until(
      "scale to zero",
      () => buffered.getCurrentStats(),
      (s) => s.containers.total === 0,
      20_000,
    );
  });

  it("runs four blocking calls of a synchronous function at once on one container's threads", async () => {
    const blocking = await client().functions.fromName<[number], { start: number; end: number; threadId: number; container: string }>(
      "autoscaling",
      "blocking",
    );
    const spans = await blocking.map([1_500, 1_500, 1_500, 1_500]).toArray();
    expect(new Set(spans.map((s) => s.container)).size).toBe(1);
    expect(new Set(spans.map((s) => s.threadId)).size).toBe(4);
    expect(Math.max(...spans.map((s) => s.start))).toBeLessThan(Math.min(...spans.map((s) => s.end))); // all four overlap
  });

  it("runs four blocking calls of a synchronous class method at once, each thread with its own entered instance", async () => {
    const BlockingModel = await client().cls.fromName("autoscaling", "BlockingModel");
    const model = BlockingModel.instance({ tag: "t1" });
    type Span = { start: number; end: number; threadId: number; container: string; tag: string; enteredOn: number };
    const spans = (await model.blockFor.map([1_500, 1_500, 1_500, 1_500]).toArray()) as Span[];
    expect(new Set(spans.map((s) => s.container)).size).toBe(1);
    expect(new Set(spans.map((s) => s.threadId)).size).toBe(4);
    expect(Math.max(...spans.map((s) => s.start))).toBeLessThan(Math.min(...spans.map((s) => s.end)));
    for (const s of spans) expect(s).toMatchObject({ tag: "t1", enteredOn: s.threadId });
  });

  it("merges overrides field by field, the pool follows, and a deploy reverts them", async () => {
    const tunable = await client().functions.fromName("autoscaling", "tunable");
    await tunable.updateAutoscaler({ minContainers: 2, maxContainers: 10 });
    await tunable.updateAutoscaler({ minContainers: 4 });
    const merged = await tunable.getCurrentStats();
    expect(merged.autoscaler).toMatchObject({ minContainers: 4, maxContainers: 10 });
    expect(merged.autoscalerSources).toMatchObject({ minContainers: "override", maxContainers: "override", bufferContainers: "declared" });
    await until(
      "4 warm containers",
      () => tunable.getCurrentStats(),
      (s) => s.containers.total === 4,
    );

    await deploy(APP_FILE);
    const reverted = await tunable.getCurrentStats();
    expect(reverted.autoscaler).toMatchObject({ minContainers: 0, maxContainers: 5 });
    await until(
      "scale back to zero",
      () => tunable.getCurrentStats(),
      (s) => s.containers.total === 0,
      20_000,
    );
  });

  it("refuses bad updates naming the problem, and changes nothing", async () => {
    const tunable = await client().functions.fromName("autoscaling", "tunable");
    await expect(tunable.updateAutoscaler({ minContainers: -1 })).rejects.toThrow(/minContainers/);
    await expect(tunable.updateAutoscaler({ minContainers: 9 })).rejects.toThrow(/"minContainers" \(9\) must not exceed "maxContainers" \(5\)/);
    await expect(tunable.updateAutoscaler({ minContainer: 1 } as never)).rejects.toBeInstanceOf(InvalidError);
    expect((await tunable.getCurrentStats()).autoscaler.minContainers).toBe(0);
    await expect(client().functions.fromName("autoscaling", "nope")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("gives each class instance its own pool, stats and overrides", async () => {
    const Model = await client().cls.fromName("autoscaling", "Model");
    const a = Model.instance({ modelVersion: "a" });
    const b = Model.instance({ modelVersion: "b" });
    expect(await a.predict.remote(1)).toBe("a:1:entered 1");
    expect(await b.predict.remote(2)).toBe("b:2:entered 1");
    expect(await a.predict.remote(3)).toBe("a:3:entered 1"); // enter() ran once for the container
    await a.updateAutoscaler({ minContainers: 1 });
    expect((await a.getCurrentStats()).autoscaler.minContainers).toBe(1);
    expect((await b.getCurrentStats()).autoscaler.minContainers).toBe(0);
    await until(
      "instance b back to zero",
      () => b.getCurrentStats(),
      (s) => s.containers.total === 0,
      20_000,
    );
    expect((await a.getCurrentStats()).containers.total).toBe(1);
  });

  it("drops a class instance's override on the app's next deploy", async () => {
    const Model = await client().cls.fromName("autoscaling", "Model");
    const instance = Model.instance({ modelVersion: "revert" });
    await instance.updateAutoscaler({ minContainers: 1, bufferContainers: 2 });
    const overridden = await instance.getCurrentStats();
    expect(overridden.autoscaler).toMatchObject({ minContainers: 1, bufferContainers: 2 });
    expect(overridden.autoscalerSources).toMatchObject({ minContainers: "override", bufferContainers: "override" });
    await until(
      "the instance's warm container",
      () => instance.getCurrentStats(),
      (s) => s.containers.total === 1,
    );

    await deploy(APP_FILE);
    const reverted = await Model.instance({ modelVersion: "revert" }).getCurrentStats();
    expect(reverted.autoscaler).toMatchObject({ minContainers: 0, bufferContainers: 0 });
    expect(reverted.autoscalerSources).toMatchObject({ minContainers: "declared", bufferContainers: "declared" });
    await until(
      "the instance back to zero",
      () => instance.getCurrentStats(),
      (s) => s.containers.total === 0,
      20_000,
    );
  });

  it("examples/autoscaling.ts runs with squall run", async () => {
    const r = await squall(["run", "examples/autoscaling.ts"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("24 squares, sum 4324");
    expect(r.stdout).toMatch(/100 pages in \d+\.\d s with input concurrency/);
    expect(r.stdout).toContain("evaluateModel now: min 2, max 4");
    expect(r.stdout).toContain("3.5: 42");
    expect(r.stdout).toContain("Model 3.5 buffer: 1");
  }, 90_000);

  it("shows and changes settings from the CLI", async () => {
    const update = await squall(["function", "update-autoscaler", "autoscaling", "tunable", "--buffer-containers", "2", "--json"]);
    expect(update.code).toBe(0);
    const stats = await squall(["function", "stats", "autoscaling", "tunable", "--json"]);
    expect((JSON.parse(stats.stdout) as FunctionStats).autoscaler.bufferContainers).toBe(2);

    // A class instance named by --params is the SDK's instance whatever the key order.
    const onInstance = await squall([
      "function",
      "update-autoscaler",
      "autoscaling",
      "Model",
      "--params",
      '{"zone":"eu","modelVersion":"cli"}',
      "--buffer-containers",
      "3",
      "--json",
    ]);
    expect(onInstance.code, onInstance.stderr).toBe(0);
    const Model = await client().cls.fromName("autoscaling", "Model");
    expect((await Model.instance({ modelVersion: "cli", zone: "eu" } as never).getCurrentStats()).autoscaler.bufferContainers).toBe(3);
  });
});

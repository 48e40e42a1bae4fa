// Issue #16 part 1, per-handle options: `withOptions` / `withConcurrency`
// handles run their calls in a pool of their own, on the real local platform.
import { describe, it, expect, beforeAll } from "vitest";
import { InvalidError } from "../../sdk/src/index";
import { client, deploy, squall, until } from "./helpers";

const APP_FILE = "test/e2e/apps/variants.ts";

describe("variants", () => {
  beforeAll(async () => {
    await deploy(APP_FILE);
  });

  it("runs a variant's calls in its own pool, with its own limits, leaving the function's pool alone", async () => {
    const work = await client().functions.fromName<[number], { container: string; peak: number }>("variants", "work");
    const narrow = work.withOptions({ maxContainers: 1 }).withConcurrency({ maxInputs: 4 });
    const results = await narrow.map(Array.from({ length: 8 }, () => 300)).toArray();
    expect(new Set(results.map((r) => r.container)).size).toBe(1);
    expect(Math.max(...results.map((r) => r.peak))).toBe(4);
    expect(await narrow.remote(1)).toMatchObject({ container: results[0].container });
    expect(await (await narrow.spawn(1)).get()).toMatchObject({ container: results[0].container });
    const stats = await narrow.getCurrentStats();
    expect(stats.variant).toBe("maxContainers=1,maxInputs=4");
    expect(stats.autoscaler.maxContainers).toBe(1);
    expect(stats.containers.total).toBe(1);
    const own = await work.getCurrentStats();
    expect(own.containers.total).toBe(0);
    expect(own.autoscaler.maxContainers).toBe(3);
    expect(own.variants).toEqual(["maxContainers=1,maxInputs=4"]);
    // The same options in another order and another handle name the same pool.
    const same = work.withConcurrency({ maxInputs: 4 }).withOptions({ maxContainers: 1 });
    expect((await same.getCurrentStats()).containers.total).toBe(1);

    const cli = await squall(["function", "stats", "variants", "work"]);
    expect(cli.stdout).toContain("variant: work [maxContainers=1, maxInputs=4]");
    const cliVariant = await squall(["function", "stats", "variants", "work", "--variant", "maxInputs=4,maxContainers=1", "--json"]);
    expect(JSON.parse(cliVariant.stdout)).toMatchObject({ variant: "maxContainers=1,maxInputs=4", containers: { total: 1 } });
    await until(
      "the variant's pool scaled to zero",
      () => narrow.getCurrentStats(),
      (s) => s.containers.total === 0,
      20_000,
    );
  });

  it("applies updateAutoscaler on a variant to that variant only", async () => {
    const work = await client().functions.fromName<[number], unknown>("variants", "work");
    const tuned = work.withOptions({ scaledownWindowMs: 3_000 });
    await tuned.updateAutoscaler({ maxContainers: 2 });
    expect((await tuned.getCurrentStats()).autoscaler).toMatchObject({ maxContainers: 2, scaledownWindowMs: 3_000 });
    expect((await work.getCurrentStats()).autoscaler).toMatchObject({ maxContainers: 3, scaledownWindowMs: 2_000 });
    const other = work.withOptions({ scaledownWindowMs: 4_000 });
    expect((await other.getCurrentStats()).autoscaler.maxContainers).toBe(3);
    await work.updateAutoscaler({ bufferContainers: 1, maxContainers: 3 });
    expect((await tuned.getCurrentStats()).autoscaler).toMatchObject({ maxContainers: 2, bufferContainers: 0 });
    await work.updateAutoscaler({ bufferContainers: 0 });
  });

  it("refuses an option out of range with an error naming it, in the SDK and on the platform", async () => {
    const work = await client().functions.fromName<[number], unknown>("variants", "work");
    expect(() => work.withOptions({ maxContainers: 0 })).toThrow(InvalidError);
    expect(() => work.withOptions({ maxContainers: 0 })).toThrow(/"maxContainers" must be between 1 and 1000, got 0/);
    expect(() => work.withConcurrency({ maxInputs: 2, targetInputs: 3 })).toThrow(/"concurrent.targetInputs" \(3\) must not exceed/);
    expect(() => work.withOptions({ maxInputs: 2 } as never)).toThrow(/withOptions has no option "maxInputs" \(set concurrency with withConcurrency\)/);
    // Checked against the declared options too, which only the platform knows: work declares maxContainers 3.
    await expect(work.withOptions({ minContainers: 5 }).remote(1)).rejects.toThrow(/"minContainers" \(5\) must not exceed "maxContainers" \(3\)/);
    const raw = await squall(["function", "stats", "variants", "work", "--variant", "timeoutMs=5"]);
    expect(raw.code).not.toBe(0);
    expect(raw.stderr).toMatch(/"timeoutMs" must be between 1000 and 86400000, got 5/);
  });

  it("gives a class variant's instances pools of their own", async () => {
    const Greeter = await client().cls.fromName<{ greeting: string }, { greet(name: string): Promise<string> }>("variants", "Greeter");
    const plain = Greeter.instance({ greeting: "hi" });
    const wide = Greeter.withConcurrency({ maxInputs: 3 }).withOptions({ maxContainers: 1 }).instance({ greeting: "hi" });
    expect(await wide.greet.remote("ada")).toBe("hi, ada");
    const stats = await wide.getCurrentStats();
    expect(stats.variant).toBe("maxContainers=1,maxInputs=3");
    expect(stats.autoscaler.maxContainers).toBe(1);
    expect(stats.containers.total).toBe(1);
    expect((await plain.getCurrentStats()).containers.total).toBe(0);
    // A method handle's own variant merges over the class's.
    expect((await wide.greet.withOptions({ timeoutMs: 5_000 }).getCurrentStats()).variant).toBe("maxContainers=1,timeoutMs=5000,maxInputs=3");
    await wide.updateAutoscaler({ minContainers: 1 });
    expect((await plain.getCurrentStats()).autoscaler.minContainers).toBe(0);
    await wide.updateAutoscaler({ minContainers: 0 });
  });
});

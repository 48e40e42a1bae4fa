// Streaming generators (issue 16, part 3), end to end: the real SDK against
// the real local platform and runner processes. No timing assertions: a
// generator is held by a file the test writes, so a value that arrives
// before that file exists arrived before the generator finished.
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, expect, beforeAll } from "vitest";
import { FunctionCall, InputCancellation, InvalidError, type FunctionHandle } from "../../sdk/src/index";
import { STREAM_WINDOW } from "../../sdk/src/wire/protocol";
import { client, deploy, eventually, sleep } from "./helpers";

const freshDir = (): string => mkdtempSync(join(tmpdir(), "squall-gen-"));

describe("streaming generators", () => {
  let gated: FunctionHandle<[string], AsyncGenerator<string>>;
  let count: FunctionHandle<[string], AsyncGenerator<number>>;
  let failAfter: FunctionHandle<[number], AsyncGenerator<{ i: number; square: number }>>;
  let plain: FunctionHandle<[number], number>;
  beforeAll(async () => {
    await deploy("test/e2e/apps/generators.ts");
    gated = await client().functions.fromName("generators", "gated");
    count = await client().functions.fromName("generators", "count");
    failAfter = await client().functions.fromName("generators", "failAfter");
    plain = await client().functions.fromName("generators", "plain");
  });

  it("delivers each value as it is yielded, before the generator finishes", async () => {
    const dir = freshDir();
    const values = gated.remoteGen(dir);
    expect(await values.next()).toEqual({ done: false, value: "first" });
    // The generator is blocked on the release file: "first" came while it still runs.
    writeFileSync(join(dir, "release"), "");
    expect(await values.next()).toEqual({ done: false, value: "second" });
    expect(await values.next()).toEqual({ done: true, value: undefined });
  });

  it("raises the error a generator throws after the values before it, without retrying it", async () => {
    const seen: number[] = [];
    let error: unknown;
    try {
      for await (const v of failAfter.remoteGen(3)) seen.push(v.square);
    } catch (err) {
      error = err;
    }
    expect(seen).toEqual([0, 1, 4]);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe("gave up after 3");
  });

  it("runs at most a window ahead of its reader, and breaking out of the loop cancels it (its finally runs)", async () => {
    const dir = freshDir();
    const seen: number[] = [];
    for await (const v of count.remoteGen(dir)) {
      seen.push(v);
      if (seen.length === 1) {
        // Unread, the generator fills its window (values 0..STREAM_WINDOW-1) and then waits for the reader.
        await eventually("the window to fill", async () => (Number(readFileSync(join(dir, "produced"), "utf8")) === STREAM_WINDOW - 1 ? true : undefined));
        await sleep(1_000); // a chance to run further ahead, which it must not take
        expect(Number(readFileSync(join(dir, "produced"), "utf8"))).toBe(STREAM_WINDOW - 1);
      }
      if (seen.length === 40) break;
    }
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i));
    await eventually("the generator's finally block", async () => (existsSync(join(dir, "finally")) ? true : undefined));
  });

  it("reads a spawned generator call with stream(), and a stream left early leaves the call cancelled", async () => {
    const call = await failAfter.spawn(2);
    const squares: number[] = [];
    await expect(
      (async () => {
        for await (const v of call.stream()) squares.push(v.square);
      })(),
    ).rejects.toThrow(RangeError);
    expect(squares).toEqual([0, 1]);

    const dir = freshDir();
    const counting = await count.spawn(dir);
    const byId = FunctionCall.fromId<AsyncGenerator<number>>(client(), counting.id);
    for await (const v of byId.stream()) if (v === 2) break;
    await expect(byId.get()).rejects.toBeInstanceOf(InputCancellation);
    await eventually("the generator's finally block", async () => (existsSync(join(dir, "finally")) ? true : undefined));
  });

  it("refuses to run a generator with remote() or map(), and a plain function with remoteGen(), naming what to call", async () => {
    await expect(gated.remote("x")).rejects.toThrow(InvalidError);
    await expect(gated.remote("x")).rejects.toThrow(/gated is a generator function .*gated\.remoteGen/);
    await expect(gated.map(["x"]).toArray()).rejects.toThrow(/gated is a generator function \(async function\*\): gated\.map\(\) cannot run it/);
    const wrong = plain as unknown as FunctionHandle<[number], AsyncGenerator<number>>;
    await expect(wrong.remoteGen(1).next()).rejects.toThrow(/plain is not a generator function: plain\.remoteGen\(\) .*plain\.remote/);
    expect(await plain.remote(1)).toBe(2);
    expect(await (await failAfter.spawn(0)).get().catch((e: Error) => e.message)).toMatch(/generator function: read what it yields with stream\(\)/);
  });
});

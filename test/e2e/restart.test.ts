// Issue "Reliability and security": the whole local platform restarted
// (the Worker stopped and started again on its persisted state, which evicts
// every Durable Object) while work is pending, on a platform of this file's
// own, so the shared one is never restarted. Its output is kept to check that
// no token ever reaches a log.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, FunctionCall } from "../../sdk/src/index";
import { startLocalPlatform, freePort, type LocalPlatform } from "../../scripts/platform";
import { squall } from "./helpers";
import { containerToken } from "../../src/auth/crypto";

interface Tracked {
  i: number;
  square: number;
  container: string;
}

let platform: LocalPlatform;
let token = "";
let dir = "";
/** Everything the platform printed: wrangler, the Worker's console, the containers' output. */
const output: string[] = [];

const client = (): Client => new Client({ url: platform.url, token });

function runCounts(log: string): Map<number, number> {
  const counts = new Map<number, number>();
  if (!existsSync(log)) return counts;
  for (const line of readFileSync(log, "utf8").trim().split("\n").filter(Boolean)) {
    const i = Number(line.split(" ")[0]);
    counts.set(i, (counts.get(i) ?? 0) + 1);
  }
  return counts;
}

/** Stops the Worker and starts it again on the same state; the container host and its runners keep running. */
async function restart(): Promise<number> {
  const started = Date.now();
  await platform.stopWorker();
  await platform.restartWorker();
  return Date.now() - started;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "squall-restart-"));
  platform = await startLocalPlatform({ port: await freePort(), persistTo: join(dir, "state"), verbose: true, log: (line) => output.push(line) });
  token = await platform.createWorkspace("restart");
  const env = { ...process.env, SQUALL_URL: platform.url, SQUALL_TOKEN: token, SQUALL_CONFIG_PATH: join(dir, "none.toml") };
  const r = await squall(["deploy", "test/e2e/apps/reliability.ts"], env);
  if (r.code !== 0) throw new Error(`deploy failed: ${r.stderr}${r.stdout}`);
}, 240_000);

afterAll(async () => {
  await platform?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a platform restart", () => {
  it("with 5 000 spawned calls pending: after the restart every call completes, and get() returns each result", async () => {
    const tally = await client().functions.fromName<[{ i: number; log: string; ms: number }], number>("reliability", "tally");
    const log = join(dir, "spawn.log");
    const n = 5_000;
    // 2 containers of 10 slots, 20 ms a call: at most 1 000 calls/s, so most are still pending at the restart.
    const calls = await tally.spawnMap(Array.from({ length: n }, (_, i) => ({ i, log, ms: 20 })));
    expect(new Set(calls.map((c) => c.id)).size).toBe(n);
    const before = await tally.getCurrentStats();
    expect(before.backlog, "calls still waiting when the platform goes down").toBeGreaterThan(n / 2);
    const tookMs = await restart();
    console.log(`restart took ${tookMs} ms with ${before.backlog} calls waiting`);

    const results = await FunctionCall.gather(...calls);
    expect(results).toEqual(Array.from({ length: n }, (_, i) => i * 3));
    // A result stays readable, the same each time, from a fresh handle too.
    const again = await Promise.all([0, 1_234, n - 1].map((k) => FunctionCall.fromId<number>(client(), calls[k].id).get()));
    expect(again).toEqual([0, 1_234 * 3, (n - 1) * 3]);
    // Every call ran; a call runs twice only if its container was lost across the restart.
    const counts = runCounts(log);
    expect(counts.size).toBe(n);
    const twice = [...counts.values()].filter((c) => c > 1).length;
    console.log(`spawned calls that ran more than once across the restart: ${twice}`);
    expect(twice).toBe(0);
  }, 240_000);

  // Outputs a runner wrote as the Worker went down are sent again on the next connection (held until
  // acknowledged), and inputs stored as running that never reached the runner are re-queued when it
  // reconnects; trackedQuickTimeout's 8 s timeoutMs would turn any input left behind into an error.
  it("mid-map (every pool object evicted): the map completes with each output once, in order", async () => {
    const tracked = await client().functions.fromName<[{ i: number; log: string; ms: number }], Tracked>("reliability", "trackedQuickTimeout");
    const log = join(dir, "map.log");
    const n = 3_000;
    const outputs: Tracked[] = [];
    const restartsAt = [500, 1_200, 1_900];
    try {
      for await (const out of tracked.map(Array.from({ length: n }, (_, i) => ({ i, log, ms: 50 })))) {
        outputs.push(out);
        if (restartsAt.includes(outputs.length)) {
          // The SDK's requests fail while the Worker is down; its reader and sender retry on their own.
          console.log(`restart mid-map at ${outputs.length} outputs took ${await restart()} ms`);
        }
      }
    } catch (err) {
      console.log(`the map failed after ${outputs.length} outputs: ${(err as Error).name}: ${(err as Error).message}`);
      throw err;
    }
    expect(outputs.map((o) => o.i)).toEqual(Array.from({ length: n }, (_, i) => i));
    for (const o of outputs) expect(o.square).toBe(o.i * o.i);
    expect(runCounts(log).size).toBe(n);
  }, 120_000);

  it("never prints a token or a secret: not in the Worker's log, not in the containers' output", async () => {
    const text = output.join("\n");
    expect(text).toMatch(/\[container /); // the containers' output is in here...
    expect(text).toMatch(/Ready on http/); // ...and wrangler's and the Worker's
    const secrets = JSON.parse(readFileSync(join(platform.persistTo, "squall-secrets.json"), "utf8")) as Record<string, string>;
    // The token containers get for the SDK (the platform hands it to every runner's environment).
    const { workspaceId } = (await (await fetch(`${platform.url}/v1/tokens`, { method: "POST", headers: { authorization: `Bearer ${token}` } })).json()) as {
      workspaceId: string;
    };
    const forContainers = await containerToken(secrets.SQUALL_SIGNING_KEY, workspaceId);
    for (const [what, secret] of [
      ["the workspace token", token.slice(3)],
      ["the container token", forContainers.split("_").pop()!],
      ["the admin secret", secrets.SQUALL_ADMIN_SECRET],
      ["the signing key", secrets.SQUALL_SIGNING_KEY],
    ] as const) {
      expect(text.includes(secret), `${what} appears in the platform's output`).toBe(false);
    }
  });
});

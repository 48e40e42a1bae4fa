// 1 000 000 pending spawned calls must fit in the spawn queue (docs/architecture.md
// "The spawn queue"): Miniflare's local queue holds only about 10 000 messages, and a
// queue message is at most 128 KB. The producer packs many calls into each
// message; this counts the messages it really sends for a million calls, sent
// as the SDK's spawnMap sends them (500 calls a request).
import { serialize } from "node:v8";
import { describe, expect, it } from "vitest";
import { encode } from "../../../sdk/src/wire/serialization";
import { MAP_BATCH_SIZE } from "../../../sdk/src/map";
import { mintCallId } from "../../../src/pool/call-id";

// The producer is Worker code (Workers types): loaded at run time, so this
// Node-typed project does not type-check the Worker's sources.
interface SpawnMessage {
  poolId: string;
  calls: Array<{ callId: string; args?: Uint8Array; argsKey?: string; method?: string }>;
}
type SpawnCalls = (env: unknown, pool: unknown, argsList: Uint8Array[], method: string | null) => Promise<{ ok: boolean }>;
const { spawnCalls } = (await import(new URL("../../../src/spawn/producer.ts", import.meta.url).href)) as { spawnCalls: SpawnCalls };

/** Queue messages are limited to 128 KB. */
const MESSAGE_LIMIT_BYTES = 128 * 1024;
/** About what Miniflare's local queue holds. */
const LOCAL_QUEUE_MESSAGES = 10_000;

async function pack(calls: number, argsOf: (i: number) => Uint8Array): Promise<{ messages: number; largestBytes: number; viaR2: number }> {
  let messages = 0;
  let largestBytes = 0;
  let viaR2 = 0;
  const env = {
    SPAWN_QUEUE: {
      async sendBatch(batch: Array<{ body: SpawnMessage }>) {
        expect(batch.length).toBeLessThanOrEqual(100);
        for (const m of batch) {
          messages++;
          largestBytes = Math.max(largestBytes, serialize(m.body).byteLength);
        }
      },
    },
    BUNDLES: {
      async put() {
        viaR2++;
      },
    },
  };
  const stub = {
    async admitSpawns(_config: unknown, count: number) {
      const callIds = Array.from({ length: count }, () => mintCallId("ab".repeat(32), Date.now()));
      return { ok: true as const, value: { callIds } };
    },
    async deliverSpawns() {
      throw new Error("the queue refused nothing, so nothing is delivered directly");
    },
  };
  const pool = { stub, poolId: "ab".repeat(32), config: {} };
  for (let start = 0; start < calls; start += MAP_BATCH_SIZE) {
    const argsList = Array.from({ length: Math.min(MAP_BATCH_SIZE, calls - start) }, (_, k) => argsOf(start + k));
    const res = await spawnCalls(env, pool, argsList, null);
    expect(res.ok).toBe(true);
  }
  return { messages, largestBytes, viaR2 };
}

describe("spawn queue capacity", () => {
  it("1 000 000 small spawned calls take 2 000 queue messages, each under 128 KB", async () => {
    const { messages, largestBytes, viaR2 } = await pack(1_000_000, (i) => encode([i, `item-${i}`]));
    console.log(`1 000 000 small calls: ${messages} messages, the largest ${largestBytes} bytes`);
    expect(messages).toBe(1_000_000 / MAP_BATCH_SIZE); // one message per spawnMap request of 500 calls
    expect(messages).toBeLessThan(LOCAL_QUEUE_MESSAGES);
    expect(largestBytes).toBeLessThan(MESSAGE_LIMIT_BYTES);
    expect(viaR2).toBe(0);
  }, 120_000);

  it("with 800-byte arguments, 1 000 000 calls still take at most 10 000 messages (larger arguments: fewer calls locally, or the production queue)", async () => {
    const { messages, largestBytes } = await pack(100_000, () => new Uint8Array(800));
    const perMillion = messages * 10;
    console.log(`800-byte arguments: ${perMillion} messages per 1 000 000 calls, the largest ${largestBytes} bytes`);
    expect(perMillion).toBeLessThanOrEqual(LOCAL_QUEUE_MESSAGES);
    expect(largestBytes).toBeLessThan(MESSAGE_LIMIT_BYTES);
  }, 60_000);

  it("arguments over 32 KB travel through R2, so a message still carries many calls", async () => {
    const { messages, largestBytes, viaR2 } = await pack(1_000, () => new Uint8Array(40 * 1024));
    expect(viaR2).toBe(1_000);
    expect(messages).toBeLessThanOrEqual(2);
    expect(largestBytes).toBeLessThan(MESSAGE_LIMIT_BYTES);
  });
});

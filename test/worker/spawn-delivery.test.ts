// Spawned calls reach their pool through the spawn queue, which delivers at
// least once: a message handed over twice must not add a call's input twice
// (DESIGN §2 "Spawn": admission is idempotent by call id).
import { describe, it, expect, vi } from "vitest";
import { env } from "cloudflare:test";
import { consumeSpawns } from "../../src/spawn/consumer";
import type { SpawnMessage } from "../../src/env";
import type { PoolConfig } from "../../src/pool/config";
import { resolveOptions } from "../../sdk/src/wire/options";
import { encode } from "../../sdk/src/wire/serialization";

function config(): PoolConfig {
  return {
    version: 1,
    workspaceId: "ws-spawn-delivery",
    appName: "spawn-delivery",
    functionId: "fn-spawn-delivery",
    functionName: "f",
    kind: "function",
    params: null,
    deploymentId: "dep-spawn-delivery",
    options: resolveOptions("f", {}),
    overrides: {},
    overrideSources: {},
    publicUrl: "http://squall.test",
  };
}

function batchOf(messages: SpawnMessage[]) {
  const handles = messages.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body, ack: vi.fn(), retry: vi.fn(), retryAll: vi.fn(), ackAll: vi.fn() }));
  return { batch: { queue: "squall-spawn", messages: handles, ackAll: vi.fn(), retryAll: vi.fn() } as unknown as MessageBatch<SpawnMessage>, handles };
}

describe("spawn delivery", () => {
  it("a message delivered twice adds each call's input once", async () => {
    const id = env.POOL.newUniqueId();
    const stub = env.POOL.get(id);
    const admitted = await stub.admitSpawns(config(), 3);
    if (!admitted.ok) throw new Error(admitted.error.message);
    const calls = admitted.value.callIds.map((callId, i) => ({ callId, args: encode([i]) }));
    const message: SpawnMessage = { poolId: id.toString(), calls };

    const first = await stub.deliverSpawns(calls.map((c) => ({ ...c, method: null })));
    expect(first.delivered).toBe(3);
    // The same calls again, directly and through the consumer (as a redelivered message, twice in one batch).
    expect((await stub.deliverSpawns(calls.map((c) => ({ ...c, method: null })))).delivered).toBe(0);
    const { batch, handles } = batchOf([message, message]);
    await consumeSpawns(batch, env);
    for (const h of handles) {
      expect(h.ack).toHaveBeenCalledOnce();
      expect(h.retry).not.toHaveBeenCalled();
    }
    const stats = await stub.stats(config().workspaceId);
    if (!stats.ok) throw new Error(stats.error.message);
    // Three inputs in all (waiting, running, or failed for want of a container here), never six or nine.
    expect(stats.value.backlog + stats.value.runningInputs).toBeLessThanOrEqual(3);
  });
});

// The spawn queue's consumer: hands each message's calls to their pool.
// Delivery is at least once; the pool skips calls it already has.
import type { Env, SpawnMessage } from "../env";
import type { SpawnDelivery } from "../pool/function-pool";

export async function consumeSpawns(batch: MessageBatch<SpawnMessage>, env: Env): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        const { poolId, calls } = message.body;
        const deliveries: SpawnDelivery[] = [];
        for (const call of calls) {
          let args = call.args;
          if (!args && call.argsKey) {
            const object = await env.BUNDLES.get(call.argsKey);
            if (!object) continue; // delivered before and cleaned up
            args = new Uint8Array(await object.arrayBuffer());
          }
          if (args) deliveries.push({ callId: call.callId, args, method: call.method ?? null });
        }
        const stub = env.POOL.get(env.POOL.idFromString(poolId));
        await stub.deliverSpawns(deliveries);
        const refs = calls.map((c) => c.argsKey).filter((k): k is string => !!k);
        if (refs.length) await env.BUNDLES.delete(refs);
        message.ack();
      } catch (err) {
        console.error(`spawn delivery failed, will retry: ${(err as Error).message}`);
        message.retry({ delaySeconds: 1 });
      }
    }),
  );
}

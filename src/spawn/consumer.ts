// The spawn queue's consumer: hands each message's calls to their pool.
// Delivery is at least once; the pool skips calls it already has.
import type { Env, SpawnMessage } from "../env";
import type { SpawnDelivery } from "../pool/config";

export async function consumeSpawns(batch: MessageBatch<SpawnMessage>, env: Env): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        const { poolId, calls } = message.body;
        const fetched = await Promise.all(
          calls.map(async (call): Promise<SpawnDelivery | null> => {
            if (call.args) return { callId: call.callId, args: call.args, method: call.method ?? null };
            if (!call.argsKey) return null;
            const object = await env.BUNDLES.get(call.argsKey);
            if (!object) return null; // delivered before and cleaned up
            return { callId: call.callId, args: new Uint8Array(await object.arrayBuffer()), method: call.method ?? null };
          }),
        );
        const deliveries = fetched.filter((d): d is SpawnDelivery => d !== null);
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

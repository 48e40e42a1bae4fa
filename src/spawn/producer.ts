// Spawned calls travel to their pool through the spawn queue (docs/architecture.md
// "The spawn queue"). A message carries a batch of calls, so 1 000 000 pending calls
// stay far below what a queue holds in flight; large arguments go by
// reference through R2.
import type { Env, SpawnMessage } from "../env";
import type { FunctionPool } from "../pool/function-pool";
import { ok, type PoolConfig, type PoolResult, type SpawnDelivery } from "../pool/config";

/** Queue messages are limited to 128 KB; leave room for the envelope. */
const MAX_MESSAGE_BYTES = 100 * 1024;
/** Arguments larger than this travel through R2 instead of inside the message. */
const INLINE_ARGS_BYTES = 32 * 1024;
/** sendBatch takes at most 100 messages and 256 KB. */
const MAX_BATCH_MESSAGES = 100;
const MAX_BATCH_BYTES = 240 * 1024;
/** Per-call bookkeeping in a message besides the arguments. */
const CALL_OVERHEAD_BYTES = 128;
/** R2 writes of large arguments in flight at once. */
const PARALLEL_PUTS = 16;

/** Admits spawned calls at their pool (which enforces the pending limit) and sends them through the queue. */
export async function spawnCalls(
  env: Env,
  pool: { stub: DurableObjectStub<FunctionPool>; poolId: string; config: PoolConfig },
  argsList: Uint8Array[],
  method: string | null,
): Promise<PoolResult<{ callIds: string[] }>> {
  const admitted = await pool.stub.admitSpawns(pool.config, argsList.length);
  if (!admitted.ok) return admitted;
  const calls = admitted.value.callIds.map((callId, i) => ({ callId, args: argsList[i], method }));
  await enqueueSpawns(env, pool.stub, pool.poolId, calls);
  return ok({ callIds: admitted.value.callIds });
}

async function enqueueSpawns(env: Env, stub: DurableObjectStub<FunctionPool>, poolId: string, calls: SpawnDelivery[]): Promise<void> {
  const byReference = calls.filter((call) => call.args.byteLength > INLINE_ARGS_BYTES);
  try {
    // Large arguments go to R2 first, a few at a time in parallel.
    for (let i = 0; i < byReference.length; i += PARALLEL_PUTS) {
      await Promise.all(byReference.slice(i, i + PARALLEL_PUTS).map((call) => env.BUNDLES.put(argsKeyOf(call.callId), call.args)));
    }
    for (const batch of batchesOf(messagesOf(poolId, calls))) await env.SPAWN_QUEUE.sendBatch(batch);
  } catch (err) {
    // The calls are admitted already: if R2 or the queue refuses them, hand them to the pool directly rather than lose them.
    console.warn(`spawn queue refused a batch (${(err as Error).message}); delivering ${calls.length} calls directly`);
    await stub.deliverSpawns(calls);
    if (byReference.length) await env.BUNDLES.delete(byReference.map((call) => argsKeyOf(call.callId))).catch(() => undefined);
  }
}

function argsKeyOf(callId: string): string {
  return `spawn-args/${callId}`;
}

/** The calls packed into messages of at most MAX_MESSAGE_BYTES, large arguments by reference. */
function messagesOf(poolId: string, calls: SpawnDelivery[]): Array<{ body: SpawnMessage; bytes: number }> {
  const messages: Array<{ body: SpawnMessage; bytes: number }> = [];
  let current: { body: SpawnMessage; bytes: number } | null = null;
  for (const call of calls) {
    const entry: SpawnMessage["calls"][number] =
      call.args.byteLength > INLINE_ARGS_BYTES
        ? { callId: call.callId, argsKey: argsKeyOf(call.callId), method: call.method ?? undefined }
        : { callId: call.callId, args: call.args, method: call.method ?? undefined };
    const size = (entry.args?.byteLength ?? 0) + CALL_OVERHEAD_BYTES;
    if (!current || current.bytes + size > MAX_MESSAGE_BYTES) {
      current = { body: { poolId, calls: [] }, bytes: 0 };
      messages.push(current);
    }
    current.body.calls.push(entry);
    current.bytes += size;
  }
  return messages;
}

/** Messages grouped into sendBatch calls of at most MAX_BATCH_MESSAGES and MAX_BATCH_BYTES. */
function batchesOf(messages: Array<{ body: SpawnMessage; bytes: number }>): Array<Array<MessageSendRequest<SpawnMessage>>> {
  const batches: Array<Array<MessageSendRequest<SpawnMessage>>> = [];
  for (let i = 0; i < messages.length;) {
    const batch: Array<MessageSendRequest<SpawnMessage>> = [];
    let bytes = 0;
    while (i < messages.length && batch.length < MAX_BATCH_MESSAGES && bytes + messages[i].bytes <= MAX_BATCH_BYTES) {
      bytes += messages[i].bytes;
      // Structured clone keeps the argument bytes as bytes (the local queue's default would turn them into JSON objects).
      batch.push({ body: messages[i].body, contentType: "v8" });
      i++;
    }
    batches.push(batch);
  }
  return batches;
}

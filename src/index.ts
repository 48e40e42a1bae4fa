// The Squall platform Worker: HTTP API, spawn-queue consumer, the
// every-minute schedule handler, and the Durable Object classes it binds
// (docs/architecture.md).
import type { Env, SpawnMessage } from "./env";
import { createApi } from "./api/app";
import { consumeSpawns } from "./spawn/consumer";
import { runDueSchedules } from "./schedule/schedules";

export { FunctionPool } from "./pool/function-pool";
export { Runner } from "./compute/runner-container";

const api = createApi();

export default {
  fetch: (request, env, ctx) => api.fetch(request, env, ctx),
  queue: (batch, env) => consumeSpawns(batch, env),
  scheduled: async (controller, env) => {
    const { runs, scalings } = await runDueSchedules(env, controller.scheduledTime);
    if (runs || scalings) console.log(`schedules: ${runs} runs spawned, ${scalings} scaling entries applied`);
  },
} satisfies ExportedHandler<Env, SpawnMessage>;

// The Squall platform Worker: HTTP API, spawn-queue consumer, and the
// Durable Object classes it binds (DESIGN §2).
import type { Env, SpawnMessage } from "./env";
import { createApi } from "./api/app";
import { consumeSpawns } from "./spawn/consumer";

export { FunctionPool } from "./pool/function-pool";
export { Runner } from "./compute/runner-container";

const api = createApi();

export default {
  fetch: (request, env, ctx) => api.fetch(request, env, ctx),
  queue: (batch, env) => consumeSpawns(batch, env),
} satisfies ExportedHandler<Env, SpawnMessage>;

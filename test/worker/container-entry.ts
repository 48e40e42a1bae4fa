// Test-only Worker entry for test/worker/runner-container.test.ts (run by
// vitest.container.config.ts). Miniflare cannot run containers (no Docker,
// and vitest-pool-workers turns them off), so the Runner under test is built
// by hand on a fake `ctx.container` plus the real DurableObjectState of this
// bare SQLite-backed object.
import { DurableObject } from "cloudflare:workers";

export class StateHost extends DurableObject {
  /** The Runner under test arms alarms on this object's storage; there is nothing to do when they fire. */
  override async alarm(): Promise<void> {}
}

export default {
  fetch: () => new Response("test-only entry", { status: 404 }),
} satisfies ExportedHandler;

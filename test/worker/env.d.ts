import type { Env as SquallEnv } from "../../src/env";
import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env extends SquallEnv {
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}

// Test-only Worker entry for the worker suite (vitest.config.ts): the
// platform Worker as it is, except that its pools get their containers from
// the fake backend (fake-compute.ts), which tests script per app.
import type { Env } from "../../src/env";
import type { ComputeBackend } from "../../src/compute/backend";
import { FunctionPool as PlatformPool } from "../../src/pool/function-pool";
import { FakeBackend } from "./fake-compute";

export { Runner } from "../../src/compute/runner-container";
export { default } from "../../src/index";

export class FunctionPool extends PlatformPool {
  protected override createComputeBackend(_env: Env): ComputeBackend {
    return new FakeBackend();
  }
}

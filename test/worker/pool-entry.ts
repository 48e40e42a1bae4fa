// Test-only Worker entry for the worker suite (vitest.config.ts): the
// platform Worker as it is, except that its pools get their containers from
// the fake backend (fake-compute.ts), which tests script per app, and a test
// may keep outputs answered early from being stored in a later task.
import type { Env } from "../../src/env";
import type { ComputeBackend } from "../../src/compute/backend";
import { FunctionPool as PlatformPool } from "../../src/pool/function-pool";
import { FakeBackend } from "./fake-compute";

export { Runner } from "../../src/compute/runner-container";
export { default } from "../../src/index";

/** Shared with the tests (one isolate). */
export const poolHooks = {
  /**
   * False: outputs answered early (src/pool/early-outputs.ts) are not stored in a later
   * task, only by the next event that reaches the pool, so a test can send one into the window.
   */
  storeEarlyOutputsLater: true,
  /** The delay of each later store asked for, in order. */
  storeDelaysMs: [] as number[],
};

export class FunctionPool extends PlatformPool {
  protected override createComputeBackend(_env: Env): ComputeBackend {
    return new FakeBackend();
  }

  protected override deferFlush(flush: () => void, delayMs: number): void {
    poolHooks.storeDelaysMs.push(delayMs);
    if (poolHooks.storeEarlyOutputsLater) super.deferFlush(flush, delayMs);
  }
}

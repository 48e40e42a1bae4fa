import { defineConfig } from "vitest/config";

// The dashboard in headless Chromium (Debian's, driven by playwright-core)
// against the real local platform: deploy with the CLI, call with the SDK,
// and watch the page follow.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    environment: "node",
    globalSetup: ["test/browser/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});

import { defineConfig } from "vitest/config";

// The real local platform (wrangler dev + container host + runner processes),
// driven through the real SDK and CLI. One platform for the whole run.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    environment: "node",
    globalSetup: ["test/e2e/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});

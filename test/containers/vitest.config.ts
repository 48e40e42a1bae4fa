import { defineConfig } from "vitest/config";

// Real Cloudflare Containers locally: the platform in containers mode (the
// Runner container class on a local Docker engine), driven through the real
// SDK and CLI. One platform for the whole run.
export default defineConfig({
  test: {
    include: ["test/containers/**/*.test.ts"],
    environment: "node",
    globalSetup: ["test/containers/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 360_000,
  },
});

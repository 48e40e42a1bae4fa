import { defineConfig } from "vitest/config";

// Pure logic and Node-side components (SDK, runner, container host), in Node.
export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
  },
});

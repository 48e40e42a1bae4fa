import { defineConfig } from "vitest/config";

// Pure logic and Node-side components, in Node, by subject: the SDK and CLI
// (sdk/), the runner and the local container host (runner/), and the
// platform's pure policies (platform/). Shared fakes live in fixtures/. The
// glob takes every folder, so a test put elsewhere still runs.
export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
  },
});

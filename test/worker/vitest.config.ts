import { defineConfig } from "vitest/config";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";

// The Worker, FunctionPool DOs, D1, R2 and the spawn queue inside workerd
// (Miniflare), with D1 migrations applied. No real container starts here
// (runners fetch their bundle over HTTP from a listening Worker, which the
// end-to-end suite provides, test/e2e): pools get their containers from the
// fake backend of pool-entry.ts, which fails every start as the container's
// own failure unless a test scripts otherwise.
export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  return {
    plugins: [
      cloudflareTest({
        main: "./test/worker/pool-entry.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            SQUALL_ADMIN_SECRET: "test-admin-secret",
            SQUALL_SIGNING_KEY: "test-signing-key",
            COMPUTE_BACKEND: "local",
          },
        },
      }),
    ],
    test: {
      include: ["test/worker/**/*.test.ts"],
      // The Runner container class has its own project (a test-only entry with a state host).
      exclude: ["test/worker/runner-container.test.ts"],
      setupFiles: ["test/worker/apply-migrations.ts"],
    },
  };
});

import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";

// The Runner container class and CloudflareBackend, inside workerd. Needs its
// own Worker: the Runner gets a real DurableObjectState from the StateHost
// object that container-entry.ts defines (see there). Paths are from the repo
// root, also when another config lists this file under `test.projects`.
export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./test/worker/container-entry.ts",
      miniflare: {
        compatibilityDate: "2026-04-20",
        compatibilityFlags: ["nodejs_compat"],
        durableObjects: { STATE_HOST: { className: "StateHost", useSQLite: true } },
      },
    }),
  ],
  test: {
    name: "runner-container",
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/worker/runner-container.test.ts"],
  },
});

import { resolve } from "node:path";
import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";

const PLATFORM_URL_ENV = "SQUALL_WORKER_CLIENT_PLATFORM_URL";

// The SDK's Worker entry (squall/client) inside workerd, calling the REAL
// local platform that global-setup.ts starts: over fetch with its URL, and
// through a SQUALL service binding. The binding is a function run in Node that
// forwards each request to the platform, as Cloudflare routes a binding to the
// platform's Worker. (The pool itself runs tests with nodejs_compat; that the
// entry needs no Node module is proven by bundling it without:
// test/unit/sdk/worker-entry.test.ts.)
export default defineConfig({
  resolve: { alias: { "squall/client": resolve(import.meta.dirname, "../../sdk/src/client-entry.ts") } },
  plugins: [
    cloudflareTest({
      miniflare: {
        compatibilityDate: "2026-04-20",
        serviceBindings: {
          SQUALL: async (request: Request): Promise<Response> => {
            const platformUrl = process.env[PLATFORM_URL_ENV];
            if (!platformUrl) throw new Error(`${PLATFORM_URL_ENV} is not set: the global setup did not start the platform`);
            const { pathname, search } = new URL(request.url);
            const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
            return fetch(new URL(pathname + search, platformUrl), { method: request.method, headers: request.headers, body });
          },
        },
      },
    }),
  ],
  test: {
    include: ["test/worker-client/**/*.test.ts"],
    globalSetup: ["test/worker-client/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});

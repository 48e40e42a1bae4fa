// Bundles the runner (sdk/src/runner) into two self-contained files for the
// runner image: build/runner/main.js and the worker-thread entry thread.js
// beside it (threads.ts finds it as ./thread.js). The Dockerfile copies them
// onto node:20-slim and runs nothing else, so the image builds offline and
// never runs `npm ci` (the lockfile cannot hold cbor-extract's per-platform
// binaries, see .ci/run).
import { build } from "esbuild";
import { join } from "node:path";
import { ROOT } from "../platform";

export const RUNNER_BUNDLE_DIR = join(ROOT, "build", "runner");

export async function bundleRunner(): Promise<void> {
  await build({
    entryPoints: { main: join(ROOT, "sdk/src/runner/main.ts"), thread: join(ROOT, "sdk/src/runner/thread.ts") },
    outdir: RUNNER_BUNDLE_DIR,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Optional native speed-ups that ws and cbor-x load inside try/catch: the pure-JS paths serve.
    external: ["bufferutil", "utf-8-validate", "cbor-extract"],
    banner: { js: 'import { createRequire as __squallCreateRequire } from "node:module"; const require = __squallCreateRequire(import.meta.url);' },
    logLevel: "warning",
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await bundleRunner();
  console.log(`runner bundled into ${RUNNER_BUNDLE_DIR}`);
}

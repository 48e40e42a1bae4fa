// Issue "Real, bounded compute", point 4: the Worker and its container
// config build for Cloudflare. `wrangler deploy --dry-run` bundles the Worker
// and builds the runner image from the Dockerfile, uploading nothing.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, it, expect } from "vitest";
import { DOCKER_SHIM } from "../../scripts/containers/engine";
import { skipped } from "./helpers";

const ROOT = resolve(import.meta.dirname, "../..");

describe.skipIf(skipped)("wrangler deploy --dry-run", () => {
  it("builds the Worker and the runner image for Cloudflare", async () => {
    const outdir = mkdtempSync(join(tmpdir(), "squall-dry-run-"));
    try {
      const result = await new Promise<{ code: number; output: string }>((done) => {
        execFile(
          join(ROOT, "node_modules/.bin/wrangler"),
          ["deploy", "--dry-run", "--outdir", outdir],
          { cwd: ROOT, env: { ...process.env, WRANGLER_DOCKER_BIN: DOCKER_SHIM, WRANGLER_SEND_METRICS: "false" }, maxBuffer: 16 * 1024 * 1024 },
          (err, stdout, stderr) => done({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, output: stdout + stderr }),
        );
      });
      expect(result.output).toMatch(/env\.RUNNER \(Runner\)\s+Durable Object/);
      expect(result.output).toMatch(/squall-runner \(.*Dockerfile\)/);
      expect(result.output).toMatch(/Successfully built/);
      expect(result.code).toBe(0);
      expect(existsSync(join(outdir, "index.js"))).toBe(true);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

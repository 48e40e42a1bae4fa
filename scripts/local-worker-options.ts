// What scripts/local-worker.mjs runs: the platform Worker bundled the way
// wrangler bundles it, and Miniflare options derived from wrangler.toml by
// wrangler itself, with state in the same place as `wrangler dev
// --persist-to` (so migrations applied with `wrangler d1 migrations apply
// --local` and state left by either are shared).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

export interface LocalWorker {
  /** The options file to pass to local-worker.mjs. */
  optionsFile: string;
  /** Removes the bundle and the options (which hold the platform's secrets). */
  remove(): void;
}

/** Bundles src/index.ts and writes the Miniflare options; `vars` are the Worker's vars (secrets included). */
export async function prepareLocalWorker(root: string, persistTo: string, vars: Record<string, string>): Promise<LocalWorker> {
  const dir = mkdtempSync(join(tmpdir(), "squall-worker-"));
  try {
    const script = join(dir, "index.js");
    await build({
      entryPoints: [join(root, "src", "index.ts")],
      absWorkingDir: root,
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      conditions: ["workerd", "worker", "browser"],
      // Provided by workerd: its own modules, and Node's under nodejs_compat.
      external: ["cloudflare:*", "node:*"],
      outfile: script,
      logLevel: "error",
    });
    const config = join(root, "wrangler.toml");
    const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
    // "local" compute runs containers on the local host; the Runner class stays bound but never starts one.
    const {
      containers: _containers,
      containerEngine: _engine,
      ...options
    } = workerOptions as typeof workerOptions & { containers?: unknown; containerEngine?: unknown };
    const file = join(dir, "options.json");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      file,
      JSON.stringify({
        ...options,
        name: "squall",
        host: "127.0.0.1",
        modules: true,
        scriptPath: script,
        modulesRoot: dir,
        bindings: { ...(options.bindings ?? {}), ...vars },
        defaultPersistRoot: join(persistTo, "v3"),
        // /cdn-cgi/handler/scheduled, which the platform's cron ticker calls (wrangler's --test-scheduled).
        unsafeTriggerHandlers: true,
        // No request for Cloudflare's cf.json: this machine has no internet.
        cf: false,
      }),
      { mode: 0o600 },
    );
    return { optionsFile: file, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

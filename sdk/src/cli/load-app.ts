// From a TypeScript file to a deployable app: bundle it with esbuild into one
// self-contained ESM file (the SDK included), import it to find its App in
// the registry, and build the manifest, checked locally so mistakes show
// before anything is uploaded.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { existsSync } from "node:fs";
import { build, type BuildFailure, type Plugin } from "esbuild";
import type { AppManifest } from "../wire/api.js";
import { checkName, resolveOptions } from "../wire/options.js";
import { clearRegistry, registeredApps, type RegisteredApp } from "../registry.js";
import { UsageError } from "./io.js";
import { clearBundleErrorClasses, hookBundleErrorClasses } from "../remote-errors.js";

export interface LoadedApp {
  registered: RegisteredApp;
  bundle: string;
}

// Bundled code may use require() (CommonJS dependencies); ESM has none of its own.
const REQUIRE_BANNER = 'import { createRequire as __squallCreateRequire } from "node:module"; const require = __squallCreateRequire(import.meta.url);';

// `import "squall"` resolves to this CLI's own SDK, so a file bundles even
// outside a project that installed squall, and the app runs the SDK version
// that deployed it. (In dist this is index.js; from source, esbuild finds index.ts.)
const sibling = (name: string): string => fileURLToPath(new URL(name, import.meta.url));
const SDK_ENTRY = existsSync(sibling("../index.js")) ? sibling("../index.js") : sibling("../index.ts");

const sdkPlugin: Plugin = {
  name: "squall-sdk",
  setup(b) {
    b.onResolve({ filter: /^squall$/ }, () => ({ path: SDK_ENTRY }));
  },
};

async function bundleApp(file: string): Promise<string> {
  const entry = resolve(file);
  if (!existsSync(entry)) throw new UsageError(`${file} does not exist`);
  try {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      sourcemap: "inline",
      // A function's name is its name in the app: without this, esbuild renames
      // `const square = app.function({}, async function square() {})`'s inner function to square2.
      keepNames: true,
      write: false,
      outfile: "app.mjs",
      banner: { js: REQUIRE_BANNER },
      plugins: [sdkPlugin],
      logLevel: "silent",
    });
    // Its error classes register themselves when it loads: squall run and the containers rebuild remote errors as them.
    return hookBundleErrorClasses(result.outputFiles[0].text);
  } catch (err) {
    const failure = err as BuildFailure;
    if (!failure.errors?.length) throw err;
    const first = failure.errors[0];
    const at = first.location ? `${first.location.file}:${first.location.line}:${first.location.column + 1}: ` : "";
    throw new UsageError(`could not bundle ${file}: ${at}${first.text}${failure.errors.length > 1 ? ` (and ${failure.errors.length - 1} more errors)` : ""}`);
  }
}

/** Imports the bundle (running the file's top level) and returns the one App it defines. */
export async function loadApp(file: string): Promise<LoadedApp> {
  const bundle = await bundleApp(file);
  const dir = await mkdtemp(join(tmpdir(), "squall-bundle-"));
  const path = join(dir, "app.mjs");
  clearRegistry();
  clearBundleErrorClasses();
  try {
    await writeFile(path, bundle);
    await import(pathToFileURL(path).href);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const apps = registeredApps();
  if (apps.length === 0) throw new UsageError(`${file} defines no App: add \`export const app = new App("my-app")\``);
  if (apps.length > 1) throw new UsageError(`${file} defines ${apps.length} apps (${apps.map((a) => a.name).join(", ")}); deploy one app per file`);
  return { registered: apps[0], bundle };
}

/** The manifest under `appName`, every name and option checked as the platform will check them. */
export function buildManifest(app: RegisteredApp, appName: string): AppManifest {
  checkName("app", appName);
  const functions = [...app.functions.values()].map((f) => {
    checkName("function", f.name);
    resolveOptions(f.name, f.options);
    return { name: f.name, kind: f.kind, options: f.options, ...(f.kind === "class" ? { methods: f.methods } : {}) };
  });
  if (functions.length === 0) throw new UsageError(`app ${app.name} defines no functions: add one with app.function()`);
  return { name: appName, functions };
}

// Turns an `init` message into something to call: downloads the app bundle,
// imports it (which registers its app), finds the target, and for a class
// builds an instance from the init's params and runs its enter() hook (one
// on the main thread, or one per worker thread: see threads.ts).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { InitMessage, RunnerTarget } from "../wire/protocol.js";
import { decode } from "../wire/serialization.js";
import { registeredApps, type Registered, type UserFunction } from "../registry.js";
import { bindApp } from "../binding.js";

export type LoadedTarget =
  /** `bundleFile`: where the bundle was written, so worker threads can import it too (runner/threads.ts). */
  { kind: "function"; name: string; fn: UserFunction; bundleFile: string } | { kind: "class"; name: string; instance: object; methods: readonly string[] };

/**
 * A stuck download should end as init_failed, not as a container that never
 * becomes ready; bundles are a few MB, so a minute is generous.
 */
const BUNDLE_DOWNLOAD_TIMEOUT_MS = 60_000;

export interface LoadOptions {
  /** Bearer token for the bundle download (the container secret). */
  secret: string;
  /** The platform's name of the app (SQUALL_APP); picks between apps that define the same name. */
  appName?: string;
}

/** The app bundle imported and the registered function or class this container serves, not yet constructed. */
export interface LoadedBundle {
  bundleFile: string;
  registered: Registered;
}

export async function loadBundle(init: InitMessage, options: LoadOptions): Promise<LoadedBundle> {
  const source = await downloadBundle(init.bundleUrl, options.secret);
  const bundleFile = writeBundle(source);
  await importBundle(bundleFile);
  bindToDeployment(options.appName);
  return { bundleFile, registered: findRegistered(init.target, options.appName) };
}

/** Something to call on this thread: the function, or for a class a new instance built from `params` and entered. */
export async function targetOf(registered: Registered, params: Uint8Array | undefined, bundleFile: string): Promise<LoadedTarget> {
  if (registered.kind === "function") return { kind: "function", name: registered.name, fn: registered.fn, bundleFile };
  if (!params) throw new Error(`"${registered.name}" is a class in the app bundle, but this container was started for a function`);
  return { kind: "class", name: registered.name, instance: await construct(registered.cls, registered.name, params), methods: registered.methods };
}

async function downloadBundle(url: string, secret: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${secret}` }, signal: AbortSignal.timeout(BUNDLE_DOWNLOAD_TIMEOUT_MS) });
  } catch (err) {
    throw new Error(`downloading the app bundle from ${url} failed: ${(err as Error).message}`, { cause: err });
  }
  if (!res.ok) {
    const body = (await res.text().catch(() => "")).slice(0, 500);
    throw new Error(`downloading the app bundle from ${url} failed: HTTP ${res.status} ${body}`);
  }
  return res.text();
}

/** Writes the bundle into a fresh temp dir (ESM can only be imported from a URL); the dir goes when the process exits. */
function writeBundle(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), "squall-bundle-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "bundle.mjs");
  writeFileSync(file, source);
  return file;
}

/** Imports the bundle, which registers its app (in this thread's registry: each worker thread imports it again). */
export async function importBundle(file: string): Promise<void> {
  try {
    await import(pathToFileURL(file).href);
  } catch (err) {
    throw wrap("importing the app bundle failed", err);
  }
}

/** Finds the target among every registered app: a unique match, else the one in the app named `appName`. */
export function findRegistered(target: RunnerTarget, appName: string | undefined): Registered {
  const apps = registeredApps();
  if (apps.length === 0) throw new Error("the app bundle registered no app (importing it created no App)");
  const matches = apps.flatMap((app) => {
    const r = app.functions.get(target.name);
    return r ? [{ app: app.name, r }] : [];
  });
  if (matches.length === 0) {
    const defined = apps.flatMap((app) => [...app.functions.keys()]);
    throw new Error(`${target.kind} "${target.name}" is not defined in the app bundle (defined: ${defined.join(", ") || "nothing"})`);
  }
  const ofKind = matches.filter((m) => m.r.kind === target.kind);
  if (ofKind.length === 0) {
    throw new Error(`"${target.name}" is a ${matches[0].r.kind} in the app bundle, but this container was started for a ${target.kind}`);
  }
  if (ofKind.length === 1) return ofKind[0].r;
  const inApp = ofKind.filter((m) => m.app === appName);
  if (inApp.length === 1) return inApp[0].r;
  throw new Error(`${target.kind} "${target.name}" is defined by several apps in the bundle (${ofKind.map((m) => m.app).join(", ")})`);
}

/**
 * Handles in the bundle call the app deployed under the name this container
 * serves: an ephemeral copy from `squall run` is deployed under another name
 * than the App's own, and a call from one of its functions to another must
 * stay within that copy. (The default Client reads SQUALL_URL/SQUALL_TOKEN,
 * which the pool gives every container.)
 */
export function bindToDeployment(appName: string | undefined): void {
  if (!appName) return;
  const apps = registeredApps();
  if (apps.length === 1 && apps[0].name !== appName) bindApp(apps[0], { appName });
}

async function construct(cls: new (params: never) => object, name: string, paramBytes: Uint8Array): Promise<object> {
  let instance: object;
  try {
    const params = decode(paramBytes);
    instance = new (cls as new (params: unknown) => object)(params);
  } catch (err) {
    throw wrap(`new ${name}(params) failed`, err);
  }
  const enter = (instance as { enter?: unknown }).enter;
  if (typeof enter === "function") {
    try {
      await enter.call(instance);
    } catch (err) {
      throw wrap(`${name}.enter() failed`, err);
    }
  }
  return instance;
}

/** Adds what the runner was doing to a user error; the original (with its stack) is the cause. */
function wrap(context: string, err: unknown): Error {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new Error(`${context}: ${message}`, { cause: err });
}

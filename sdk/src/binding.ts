// Which deployment the handles of an App call. By default an App's handles
// call the app deployed under its own name with the default Client; `squall
// run` binds the App to its ephemeral copy instead. The CLI and the bundle it
// imports carry separate copies of the SDK, so (like the registry) bindings
// live on a global symbol, keyed by the registered app, as plain data.
import type { RegisteredApp } from "./registry.js";
import type { ClientConfig } from "./config.js";

export interface AppBinding {
  /** The name the app is deployed under (e.g. `my-app-run-3f9a0c`). */
  appName: string;
  /** Where that deployment lives; absent means the default Client. */
  client?: ClientConfig;
}

const KEY = Symbol.for("squall.bindings.v1");

function bindings(): WeakMap<RegisteredApp, AppBinding> {
  const g = globalThis as unknown as Record<symbol, WeakMap<RegisteredApp, AppBinding> | undefined>;
  return (g[KEY] ??= new WeakMap());
}

/** Makes every handle of this app call `binding.appName` (handles already resolved keep their target). */
export function bindApp(app: RegisteredApp, binding: AppBinding): void {
  bindings().set(app, binding);
}

export function bindingOf(app: RegisteredApp): AppBinding | undefined {
  return bindings().get(app);
}

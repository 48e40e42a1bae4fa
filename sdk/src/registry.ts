// Where an app's definitions live at run time. An app bundle carries its own
// copy of the SDK, so the registry sits on a global symbol that every copy
// (the CLI's, the runner's, the bundle's) shares.
import type { FunctionOptionsWire } from "./wire/options.js";

export type UserFunction = (...args: never[]) => unknown;
export type UserClass = new (params: never) => object;

export interface RegisteredFunction {
  kind: "function";
  name: string;
  options: FunctionOptionsWire;
  fn: UserFunction;
}

export interface RegisteredClass {
  kind: "class";
  name: string;
  options: FunctionOptionsWire;
  cls: UserClass;
  /** Public methods callable remotely (excluding `constructor` and `enter`). */
  methods: string[];
}

export type Registered = RegisteredFunction | RegisteredClass;

export interface RegisteredApp {
  name: string;
  functions: Map<string, Registered>;
  localEntrypoint?: () => unknown;
}

const KEY = Symbol.for("squall.registry.v1");

interface GlobalRegistry {
  apps: RegisteredApp[];
}

function registry(): GlobalRegistry {
  const g = globalThis as unknown as Record<symbol, GlobalRegistry | undefined>;
  return (g[KEY] ??= { apps: [] });
}

export function registerApp(app: RegisteredApp): void {
  registry().apps.push(app);
}

export function registeredApps(): readonly RegisteredApp[] {
  return registry().apps;
}

/** Forgets every app (the CLI imports a bundle once per command; tests import many). */
export function clearRegistry(): void {
  registry().apps.length = 0;
}

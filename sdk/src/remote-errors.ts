// Rebuilding a remote error as an instance of its class. Built-in classes
// are always known; a user's own classes are known through
// `new Client({ errors: [...] })`, and — in a process that loaded an app
// bundle (`squall run`, a container) — every Error subclass the bundle
// defines. An unknown class comes back as an Error with the remote name.
import type { SerializedError } from "./wire/serialization.js";
import { InvalidError } from "./errors.js";

/** An Error subclass a remote error may be rebuilt as. Its constructor is never called for that. */
export type ErrorClass = abstract new (...args: never[]) => Error;

/** Finds the class a remote error's class name stands for. */
export type ErrorClassLookup = (className: string) => ErrorClass | undefined;

/** How deep a rebuilt error's causes and aggregated errors go (the serializer stops at 8). */
const MAX_DEPTH = 16;

/** Keys a serialized error's fields may never set: they would reach the prototype. */
const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

type Reason = SerializedError | { value: unknown };

const BUILTINS = new Map<string, (message: string, name: string, errors: unknown[]) => Error>([
  ["Error", (m) => new Error(m)],
  ["TypeError", (m) => new TypeError(m)],
  ["RangeError", (m) => new RangeError(m)],
  ["SyntaxError", (m) => new SyntaxError(m)],
  ["ReferenceError", (m) => new ReferenceError(m)],
  ["EvalError", (m) => new EvalError(m)],
  ["URIError", (m) => new URIError(m)],
  ["AggregateError", (m, _name, errors) => new AggregateError(errors, m)],
  // A DOMException's name (AbortError, TimeoutError, …) selects its kind and code.
  ["DOMException", (m, name) => new DOMException(m, name)],
]);

/**
 * The remote error as an instance of its class: a registered user class
 * (made with Object.create, its constructor not run, its fields assigned),
 * a built-in class, or else a plain Error carrying the remote name. Message,
 * stack, fields, cause and an AggregateError's errors are kept.
 */
export function rebuildError(s: SerializedError, lookup: ErrorClassLookup, depth = 0): Error {
  const name = typeof s.name === "string" ? s.name : "Error";
  const message = typeof s.message === "string" ? s.message : String(s.message);
  const className = typeof s.className === "string" ? s.className : name;
  const deeper = depth < MAX_DEPTH;
  const errors = deeper && Array.isArray(s.errors) ? s.errors.map((e) => rebuildReason(e, lookup, depth + 1)) : undefined;
  const userClass = lookup(className);
  const builtin = BUILTINS.get(className);
  let err: Error;
  if (userClass) {
    err = Object.create(userClass.prototype as object) as Error;
    defineHidden(err, "message", message);
  } else {
    err = builtin ? builtin(message, name, errors ?? []) : new Error(message);
  }
  if (err.name !== name) defineHidden(err, "name", name);
  if (typeof s.stack === "string") defineHidden(err, "stack", s.stack);
  // V8's (Node and workerd have it), so typed here rather than from Node's types.
  else if (userClass) (Error as { captureStackTrace?: (target: object) => void }).captureStackTrace?.(err);
  if (s.props && typeof s.props === "object") {
    for (const [key, value] of Object.entries(s.props)) {
      if (UNSAFE_KEYS.has(key)) continue;
      define(err, key, value, true);
    }
  }
  if (deeper && s.cause && typeof s.cause === "object") defineHidden(err, "cause", rebuildReason(s.cause, lookup, depth + 1));
  // A built-in AggregateError got them from its constructor.
  if (errors && (userClass || className !== "AggregateError")) defineHidden(err, "errors", errors);
  return err;
}

function rebuildReason(reason: Reason, lookup: ErrorClassLookup, depth: number): unknown {
  if (reason === null || typeof reason !== "object") return reason; // not our shape: pass it on as it came
  return "value" in reason ? reason.value : rebuildError(reason, lookup, depth);
}

function defineHidden(err: Error, key: string, value: unknown): void {
  define(err, key, value, false);
}

/** An own data property; a class whose prototype makes that impossible keeps what it has. */
function define(err: Error, key: string, value: unknown, enumerable: boolean): void {
  try {
    Object.defineProperty(err, key, { value, enumerable, writable: true, configurable: true });
  } catch {
    // e.g. a frozen prototype chain or a non-configurable own property: not worth failing the caller.
  }
}

// --- Which user classes a process knows -------------------------------------

/**
 * Error subclasses defined by the app bundle loaded in this process, by name
 * (null: two different classes share the name, so neither is guessed). Every
 * copy of the SDK in the process (the CLI's, the bundle's) shares it, like
 * the app registry.
 */
const BUNDLE_CLASSES_KEY = "squall.errorClasses.v1";

function bundleClasses(): Map<string, ErrorClass | null> {
  const g = globalThis as unknown as Record<symbol, Map<string, ErrorClass | null> | undefined>;
  return (g[Symbol.for(BUNDLE_CLASSES_KEY)] ??= new Map());
}

/** Forgets the bundle's classes (before another bundle is loaded into this process). */
export function clearBundleErrorClasses(): void {
  bundleClasses().clear();
}

/**
 * Notes each Error subclass as the bundle defines it: esbuild's keepNames
 * helper `__name` runs for every named class and function of a bundle,
 * exported or not, so the bundle's `__name` is made to call this too. One
 * line, so the bundle's inline source map still lines up.
 */
const NOTE_CLASS_JS =
  `((target, name) => { try { const g = globalThis; if (typeof target !== "function" || !(target.prototype instanceof g.Error)) return; ` +
  `const classes = (g[g.Symbol.for(${JSON.stringify(BUNDLE_CLASSES_KEY)})] ??= new g.Map()); ` +
  `classes.set(name, classes.has(name) && classes.get(name) !== target ? null : target); } catch {} })`;

/** esbuild's keepNames helper as esbuild 0.27 emits it (it may rename the parameters to avoid a clash). */
const ESBUILD_NAME_HELPER = /^var __name = \((\w+), (\w+)\) => __defProp\(\1, "name", \{ value(?:: \2)?, configurable: true \}\);$/m;
const HOOK_MARK = "/* squall: error classes */";

/**
 * The bundle with its Error subclasses registered as they are defined, so a
 * process that loads it rebuilds remote errors of those classes. A bundle
 * without the helper (no named classes or functions) is returned as is.
 */
export function hookBundleErrorClasses(bundle: string): string {
  return bundle.replace(
    ESBUILD_NAME_HELPER,
    (_line, target: string, value: string) =>
      `var __name = (${target}, ${value}) => (${HOOK_MARK} ${NOTE_CLASS_JS}(${target}, ${value}), ` +
      `__defProp(${target}, "name", { value: ${value}, configurable: true }));`,
  );
}

/** Whether a bundle carries the hook (a test checks that esbuild still emits the helper this way). */
export function bundleHasErrorClassHook(bundle: string): boolean {
  return bundle.includes(HOOK_MARK);
}

// --- A client's classes ------------------------------------------------------

const classesOfOwner = new WeakMap<object, ReadonlyMap<string, ErrorClass>>();

/** Checks `new Client({ errors })` and keeps the classes by name for the client's calls. */
export function attachErrorClasses(owner: object, classes: readonly ErrorClass[] | undefined): void {
  if (classes === undefined) return;
  if (!Array.isArray(classes)) throw new InvalidError("the Client option errors must be an array of Error classes");
  const byName = new Map<string, ErrorClass>();
  classes.forEach((cls: unknown, i) => {
    if (typeof cls !== "function" || !((cls as ErrorClass).prototype instanceof Error)) {
      throw new InvalidError(`errors[${i}] of the Client options is not a class that extends Error`);
    }
    const name = (cls as ErrorClass).name;
    if (!name) throw new InvalidError(`errors[${i}] of the Client options is an anonymous class: remote errors are matched by class name`);
    if (byName.has(name) && byName.get(name) !== cls) throw new InvalidError(`errors of the Client options has two classes named ${name}`);
    byName.set(name, cls as ErrorClass);
  });
  classesOfOwner.set(owner, byName);
}

/** What a client's calls rebuild remote errors as: its own classes first, then the bundle's. */
export function errorClassLookup(owner: object): ErrorClassLookup {
  const own = classesOfOwner.get(owner);
  return (className) => {
    const registered = own?.get(className);
    if (registered) return registered;
    if (BUILTINS.has(className)) return undefined;
    return bundleClasses().get(className) ?? undefined;
  };
}

// Parameterized classes: each distinct set of constructor params gets its own
// pool. `Model.instance(params)` names that pool; its methods are function
// handles, and the instance carries the pool's controls.
import type { FunctionStats } from "./wire/api.js";
import type { AutoscalerUpdate, ConcurrencyOptions } from "./wire/options.js";
import type { Variant, VariantOptions } from "./wire/variant.js";
import { concurrencyVariant, optionsVariant, targetOfVariant } from "./variant-handle.js";
import { FunctionHandle } from "./function.js";
import { encodeValue, type CallTarget, type ResolveTarget } from "./calls.js";
import { getCurrentStats, updateAutoscaler } from "./pool-control.js";

/** Hooks the platform calls itself, never callable remotely. */
const LIFECYCLE_METHODS = new Set(["constructor", "enter"]);

type MethodName<T> = {
  [K in keyof T]: K extends string ? (K extends "constructor" | "enter" ? never : T[K] extends (...args: never[]) => unknown ? K : never) : never;
}[keyof T];

export type MethodHandles<T> = {
  readonly [K in MethodName<T>]: T[K] extends (...args: infer A extends unknown[]) => infer R ? FunctionHandle<A, Awaited<R>> : never;
};

/** The elements a batched method's callers pass: one per list parameter. */
type Items<Lists extends unknown[]> = { [K in keyof Lists]: Lists[K] extends ReadonlyArray<infer E> ? E : never };

/** Handles of a batched class's methods: each takes lists and returns an array; its callers pass single items and get single results. */
export type BatchedMethodHandles<T> = {
  readonly [K in MethodName<T>]: T[K] extends (...lists: infer L extends unknown[]) => infer R
    ? Awaited<R> extends ReadonlyArray<infer E>
      ? FunctionHandle<Items<L>, E>
      : never
    : never;
};

export interface PoolControls {
  /** Overrides autoscaler settings of this instance's pool only. */
  updateAutoscaler(settings: AutoscalerUpdate): Promise<void>;
  getCurrentStats(): Promise<FunctionStats>;
}

/** One class instance (one set of params): its methods as handles, plus its pool's controls. */
export type ClsInstance<T> = MethodHandles<T> & PoolControls;

/** An instance of a class defined with `batched`. */
export type BatchedClsInstance<T> = BatchedMethodHandles<T> & PoolControls;

/** The methods a class handle exposes: its prototype chain's methods, minus the lifecycle hooks. */
export function methodsOf(cls: abstract new (...args: never[]) => object): string[] {
  const names = new Set<string>();
  for (let proto = cls.prototype as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (!LIFECYCLE_METHODS.has(name) && typeof descriptor?.value === "function") names.add(name);
    }
  }
  return [...names];
}

/**
 * The platform names an instance's pool by the bytes of its params, and CBOR
 * keeps key order: sorting keys makes `{ a, b }` and `{ b, a }` one pool.
 */
export function encodeInstanceParams(where: string, params: unknown): Uint8Array {
  return encodeValue(where, sortKeys(params));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
}

export class ClsHandle<P, T, Batched extends boolean = false> {
  /** The class's target, without the variant: what a further variant builds on. */
  readonly #unvaried: ResolveTarget;
  readonly #resolve: ResolveTarget;
  readonly #methods: readonly string[];
  readonly #localClass: (new (params: P) => T) | null;
  readonly #variant: Variant;
  readonly #batched: boolean;

  constructor(
    readonly name: string,
    methods: readonly string[],
    resolve: ResolveTarget,
    localClass: (new (params: P) => T) | null,
    variant: Variant = {},
    batched = false,
  ) {
    this.#methods = methods;
    this.#unvaried = resolve;
    this.#resolve = targetOfVariant(resolve, variant);
    this.#localClass = localClass;
    this.#variant = variant;
    this.#batched = batched;
  }

  /** A class handle whose instances run in pools of their own, with these options replacing the class's (see FunctionHandle.withOptions). */
  withOptions(options: VariantOptions): ClsHandle<P, T, Batched> {
    return this.#withVariant(optionsVariant(this.name, this.#variant, options));
  }

  /** Like withOptions, for the concurrency of `concurrent`. */
  withConcurrency(concurrency: ConcurrencyOptions): ClsHandle<P, T, Batched> {
    return this.#withVariant(concurrencyVariant(this.name, this.#variant, concurrency));
  }

  #withVariant(variant: Variant): ClsHandle<P, T, Batched> {
    return new ClsHandle<P, T, Batched>(this.name, this.#methods, this.#unvaried, this.#localClass, variant, this.#batched);
  }

  /** The instance for these params (its pool starts on first use). */
  instance(params: P): Batched extends true ? BatchedClsInstance<T> : ClsInstance<T> {
    const encoded = encodeInstanceParams(`the params of ${this.name}.instance()`, params);
    const resolvePool = async (): Promise<CallTarget> => ({ ...(await this.#resolve()), params: encoded });
    const instance: Record<string, unknown> = {
      updateAutoscaler: async (settings: AutoscalerUpdate) => void (await updateAutoscaler(await resolvePool(), this.name, settings)),
      getCurrentStats: () => resolvePool().then(getCurrentStats),
    };
    const local = this.#localInstance(params);
    for (const method of this.#methods) {
      const resolveMethod = async (): Promise<CallTarget> => ({ ...(await resolvePool()), method });
      const call = async (args: unknown[]): Promise<unknown> => ((await local!()) as Record<string, (...a: unknown[]) => unknown>)[method](...args);
      // local() of a batched method runs a batch of one.
      const runLocal = !local
        ? null
        : this.#batched
          ? async (...args: unknown[]) => ((await call(args.map((a) => [a]))) as unknown[])[0]
          : async (...args: unknown[]) => call(args);
      // The method's handle knows the class's variant, so its own withOptions merges over it.
      instance[method] = new FunctionHandle(`${this.name}.${method}`, resolveMethod, runLocal, null, this.#variant);
    }
    return instance as Batched extends true ? BatchedClsInstance<T> : ClsInstance<T>;
  }

  /** For local(): one object per instance handle, constructed and entered on first use, like a container does. */
  #localInstance(params: P): (() => Promise<T>) | null {
    const cls = this.#localClass;
    if (!cls) return null;
    let entered: Promise<T> | null = null;
    return () =>
      (entered ??= (async () => {
        const obj = new cls(params);
        const enter = (obj as { enter?: () => unknown }).enter;
        if (typeof enter === "function") await enter.call(obj);
        return obj;
      })());
  }
}

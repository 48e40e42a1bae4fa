// Defining an app: functions, classes and a local entrypoint. Definitions go
// into the registry, where `squall deploy` and the runner find them; handles
// call the deployed app, resolved on first remote use.
import type { BatchedOptions, FunctionOptionsWire } from "./wire/options.js";
import { OptionsError, checkName } from "./wire/options.js";
import { registerApp, type RegisteredApp, type UserClass, type UserFunction } from "./registry.js";
import { bindingOf, type AppBinding } from "./binding.js";
import { InvalidError } from "./errors.js";
import { Client, lookup } from "./client.js";
// An app's default Client finds its URL and token the Node way (environment, ~/.squall.toml).
import "./config.js";
import { FunctionHandle } from "./function.js";
import { ClsHandle, methodsOf } from "./cls.js";
import { Cron, Period } from "./schedule.js";
import { isAsyncGeneratorFunction, isSyncGeneratorFunction } from "./generators.js";
import type { CallTarget, ResolveTarget } from "./calls.js";

/** Options of `app.function` / `app.cls` (README); validated at deploy. */
export type FunctionOptions = Omit<FunctionOptionsWire, "schedule" | "generator"> & { schedule?: Cron | Period };

/** The parameters of a batched function: a list of each argument its callers pass. */
export type Lists<Args extends unknown[]> = { [K in keyof Args]: Args[K][] };

export class App {
  readonly name: string;
  readonly #registered: RegisteredApp;
  #defaultClient: Client | null = null;

  constructor(name: string) {
    try {
      this.name = checkName("app", name);
    } catch (err) {
      throw err instanceof OptionsError ? new InvalidError(err.message) : err;
    }
    this.#registered = { name, functions: new Map() };
    registerApp(this.#registered);
  }

  /**
   * Defines a batched function (README "Dynamic batching"): it takes a list
   * per parameter and returns one result per element; callers pass single items.
   */
  function<Args extends unknown[], R>(
    options: FunctionOptions & { batched: BatchedOptions },
    fn: (...lists: Lists<Args>) => R[] | Promise<R[]>,
  ): FunctionHandle<Args, R>;
  /** Defines a function; its name is the function's own name, or `options.name`. */
  function<Args extends unknown[], R>(options: FunctionOptions & { batched?: undefined }, fn: (...args: Args) => R): FunctionHandle<Args, Awaited<R>>;
  function(options: FunctionOptions, userFn: (...args: never[]) => unknown): FunctionHandle<unknown[], unknown> {
    const fn = userFn as (...args: unknown[]) => unknown;
    const name = this.#define(options, fn, "function");
    if (isSyncGeneratorFunction(fn)) throw new InvalidError(`${name} is a synchronous function*: write it as async function* to stream what it yields`);
    const generator = isAsyncGeneratorFunction(fn);
    if (generator && options?.batched !== undefined)
      throw new InvalidError(`${name} is an async function*: option "batched" cannot be used with a generator function`);
    const wire = { ...toWireOptions(options), ...(generator ? { generator } : {}) };
    this.#registered.functions.set(name, { kind: "function", name, options: wire, fn: fn as unknown as UserFunction });
    // local() of a batched function runs a batch of one.
    const local = options?.batched
      ? async (...args: unknown[]): Promise<unknown> => ((await fn(...args.map((a) => [a]))) as unknown[])[0]
      : async (...args: unknown[]): Promise<unknown> => await fn(...args);
    return new FunctionHandle<unknown[], unknown>(name, this.#resolver(name), local, generator);
  }

  /** Defines a parameterized class whose methods are all batched (README "Dynamic batching"): each takes lists and returns an array. */
  cls<P, T extends object>(options: FunctionOptions & { batched: BatchedOptions }, cls: new (params: P) => T): ClsHandle<P, T, true>;
  /** Defines a parameterized class: every distinct set of constructor params gets its own pool. */
  cls<P, T extends object>(options: FunctionOptions & { batched?: undefined }, cls: new (params: P) => T): ClsHandle<P, T>;
  cls<P, T extends object>(options: FunctionOptions, cls: new (params: P) => T): ClsHandle<P, T, boolean> {
    const name = this.#define(options, cls, "class");
    const methods = methodsOf(cls);
    if (methods.length === 0) throw new InvalidError(`class ${name} has no methods to call`);
    const generators = methods.filter((m) => {
      const method = (cls.prototype as Record<string, unknown>)[m];
      return isAsyncGeneratorFunction(method) || isSyncGeneratorFunction(method);
    });
    if (generators.length > 0) {
      throw new InvalidError(
        `${name}.${generators[0]} is a generator method: class methods cannot stream yet; define it as an async function* with app.function()`,
      );
    }
    this.#registered.functions.set(name, { kind: "class", name, options: toWireOptions(options), cls: cls as unknown as UserClass, methods });
    return new ClsHandle<P, T, boolean>(name, methods, this.#resolver(name), cls, {}, options?.batched !== undefined);
  }

  /** What `squall run` runs locally, against an ephemeral copy of the app. */
  localEntrypoint(fn: () => unknown): void {
    if (this.#registered.localEntrypoint) throw new InvalidError(`app ${this.name} already has a local entrypoint`);
    this.#registered.localEntrypoint = fn;
  }

  #define(options: FunctionOptions, definition: { name: string }, kind: "function" | "class"): string {
    const name = options?.name ?? definition.name;
    if (!name) {
      throw new InvalidError(`app.${kind === "class" ? "cls" : "function"}() needs a named ${kind} (its name becomes the ${kind}'s name) or options.name`);
    }
    if (this.#registered.functions.has(name)) throw new InvalidError(`app ${this.name} already defines ${name}`);
    return name;
  }

  /**
   * Finds the deployed function on first use: the app deployed under its own
   * name with the default Client, unless the app is bound elsewhere (`squall
   * run`). A changed binding is looked up again; a failed lookup is retried.
   */
  #resolver(name: string): ResolveTarget {
    let cached: { binding: AppBinding | undefined; target: Promise<CallTarget> } | null = null;
    return () => {
      const binding = bindingOf(this.#registered);
      if (!cached || cached.binding !== binding) {
        const target = this.#lookup(binding, name);
        cached = { binding, target };
        target.catch(() => {
          if (cached?.target === target) cached = null;
        });
      }
      return cached.target;
    };
  }

  async #lookup(binding: AppBinding | undefined, name: string): Promise<CallTarget> {
    const client = binding?.client ? new Client(binding.client) : (this.#defaultClient ??= new Client());
    const kind = this.#registered.functions.get(name)!.kind;
    const info = await lookup(client, binding?.appName ?? this.name, name, kind);
    return { client, functionId: info.functionId, generator: info.options.generator === true };
  }
}

function toWireOptions(options: FunctionOptions): FunctionOptionsWire {
  const { schedule, ...rest } = options ?? {};
  if (schedule === undefined) return rest;
  // A schedule that is not a Cron or Period travels as given; deploy rejects it by name.
  const spec = schedule instanceof Cron || schedule instanceof Period ? schedule.toSpec() : (schedule as unknown as FunctionOptionsWire["schedule"]);
  return { ...rest, schedule: spec };
}

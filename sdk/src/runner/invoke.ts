// Runs one input against the loaded target and turns what happens into an
// output: the encoded return value, or the encoded error it threw.
import type { RunnerInput, RunnerOutput } from "../wire/protocol.js";
import { decode, encode, findUnserializable, serializeError } from "../wire/serialization.js";
import type { LoadedTarget } from "./loader.js";
import { inputContext } from "./console-capture.js";
import { FRAME_PAYLOAD_BUDGET } from "./frames.js";
import { isAsyncGeneratorFunction } from "../generators.js";

export type Outcome = Omit<RunnerOutput, "id">;

/** Where a generator input's values go: each waits for credit, then is sent. */
export interface StreamSink {
  /** Resolves true once value `seq` may be produced; false once the input is cancelled. */
  credit(seq: number): Promise<boolean>;
  emit(seq: number, value: Uint8Array): void;
}

/** Methods of a class instance that inputs may not call: lifecycle hooks, not remote methods. */
const NOT_CALLABLE = new Set(["constructor", "enter"]);

/** How errors name the target an input calls: `embed`, or `Model.predict`. */
export function labelOf(target: LoadedTarget, method: string | undefined): string {
  return target.kind === "function" ? target.name : `${target.name}.${method ?? "?"}`;
}

export function invoke(target: LoadedTarget, input: RunnerInput, sink?: StreamSink): Promise<Outcome> {
  return inputContext.run(input.id, async () => {
    const label = labelOf(target, input.method);
    let result: unknown;
    try {
      const args = decode<unknown>(input.args);
      if (!Array.isArray(args)) throw new TypeError(`the arguments of ${label} are not an argument list`);
      result = await resolve(target, input.method)(...args);
      if (target.kind === "function" && isAsyncGeneratorFunction(target.fn)) {
        if (!sink) throw new Error(`${label} is a generator, and this runner cannot stream its values`);
        result = await streamValues(result as AsyncGenerator<unknown, unknown>, sink, label);
      }
    } catch (err) {
      return failure(err);
    }
    return success(result, label);
  });
}

/**
 * Pulls a generator's values one at a time, each only once there is credit
 * for it (back-pressure), and sends each as it comes. A cancelled input's
 * generator is ended with return(), so its finally blocks run. Returns the
 * generator's return value.
 */
async function streamValues(gen: AsyncGenerator<unknown, unknown>, sink: StreamSink, label: string): Promise<unknown> {
  for (let seq = 0; ; seq++) {
    if (!(await sink.credit(seq))) {
      await gen.return(undefined);
      return undefined;
    }
    const next = await gen.next();
    if (next.done) return next.value;
    let value: Uint8Array;
    try {
      value = encodeValue(next.value, `value ${seq} yielded by ${label}`);
    } catch (err) {
      await gen.return(undefined).catch(() => undefined);
      throw err;
    }
    sink.emit(seq, value);
  }
}

/** CBOR of a value sent back (a result or a yielded value), or a TypeError / RangeError saying why it cannot be. */
function encodeValue(result: unknown, what: string): Uint8Array {
  const bad = findUnserializable(result);
  if (bad) throw new TypeError(`${what} cannot be serialized: ${bad}`);
  let value: Uint8Array;
  try {
    value = encode(result);
  } catch (err) {
    throw new TypeError(`${what} cannot be serialized: ${(err as Error).message}`);
  }
  if (value.byteLength > FRAME_PAYLOAD_BUDGET) {
    throw new RangeError(
      `${what} is ${value.byteLength} bytes serialized; ` +
        `a value sent back can be at most ${FRAME_PAYLOAD_BUDGET} bytes (send a reference, e.g. a URL, instead)`,
    );
  }
  return value;
}

export function resolve(target: LoadedTarget, method: string | undefined): (...args: unknown[]) => unknown {
  if (target.kind === "function") {
    const fn = target.fn as (...args: unknown[]) => unknown;
    return (...args) => fn(...args);
  }
  const available = `methods: ${target.methods.join(", ") || "none"}`;
  if (!method) throw new TypeError(`an input for class ${target.name} names no method (${available})`);
  const member = NOT_CALLABLE.has(method) ? undefined : ownMethod(target.instance, method);
  if (!member) throw new TypeError(`${target.name}.${method} is not a method that can be called remotely (${available})`);
  return (...args) => member.apply(target.instance, args);
}

/** A function on the instance or its class chain, never one inherited from Object.prototype (toString, __proto__, …). */
function ownMethod(instance: object, name: string): ((...args: unknown[]) => unknown) | undefined {
  for (let o: object | null = instance; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    const desc = Object.getOwnPropertyDescriptor(o, name);
    if (desc) return typeof desc.value === "function" ? (desc.value as (...args: unknown[]) => unknown) : undefined;
  }
  return undefined;
}

export function success(result: unknown, label: string): Outcome {
  try {
    return { status: "success", value: encodeValue(result, `the return value of ${label}`) };
  } catch (err) {
    return failure(err);
  }
}

export function failure(err: unknown): Outcome {
  const serialized = serializeError(err);
  try {
    const value = encode(serialized);
    if (value.byteLength <= FRAME_PAYLOAD_BUDGET) return { status: "failure", value };
  } catch {
    // A property cbor-x cannot encode after all: fall through to the bare error.
  }
  // Keep the name, the class and the start of the message and stack, which always fit.
  const { name, className, message, stack } = serialized;
  return { status: "failure", value: encode({ name, className, message: message.slice(0, 64 * 1024), stack: stack?.slice(0, 64 * 1024) }) };
}

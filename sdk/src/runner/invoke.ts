// Runs one input against the loaded target and turns what happens into an
// output: the encoded return value, or the encoded error it threw.
import type { RunnerInput, RunnerOutput } from "../wire/protocol.js";
import { decode, encode, findUnserializable, serializeError } from "../wire/serialization.js";
import type { LoadedTarget } from "./loader.js";
import { inputContext } from "./console-capture.js";
import { FRAME_PAYLOAD_BUDGET } from "./frames.js";

export type Outcome = Omit<RunnerOutput, "id">;

/** Methods of a class instance that inputs may not call: lifecycle hooks, not remote methods. */
const NOT_CALLABLE = new Set(["constructor", "enter"]);

export function invoke(target: LoadedTarget, input: RunnerInput): Promise<Outcome> {
  return inputContext.run(input.id, async () => {
    const label = target.kind === "function" ? target.name : `${target.name}.${input.method ?? "?"}`;
    let result: unknown;
    try {
      const args = decode<unknown>(input.args);
      if (!Array.isArray(args)) throw new TypeError(`the arguments of ${label} are not an argument list`);
      result = await resolve(target, input.method)(...args);
    } catch (err) {
      return failure(err);
    }
    return success(result, label);
  });
}

function resolve(target: LoadedTarget, method: string | undefined): (...args: unknown[]) => unknown {
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

function success(result: unknown, label: string): Outcome {
  const bad = findUnserializable(result);
  if (bad) return failure(new TypeError(`the return value of ${label} cannot be serialized: ${bad}`));
  let value: Uint8Array;
  try {
    value = encode(result);
  } catch (err) {
    return failure(new TypeError(`the return value of ${label} cannot be serialized: ${(err as Error).message}`));
  }
  if (value.byteLength > FRAME_PAYLOAD_BUDGET) {
    return failure(
      new RangeError(
        `the return value of ${label} is ${value.byteLength} bytes serialized; ` +
          `a result can be at most ${FRAME_PAYLOAD_BUDGET} bytes (return a reference, e.g. a URL, instead)`,
      ),
    );
  }
  return { status: "success", value };
}

function failure(err: unknown): Outcome {
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

// CBOR for arguments, results and errors (docs/architecture.md "Serialization").
// cbor-x without records so every peer (Node runner, Worker, SDK) can decode
// any payload on its own; Date, Map, Set, BigInt, typed arrays and `undefined`
// round-trip.
import { Encoder } from "cbor-x";

const codec = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: true });

export function encode(value: unknown): Uint8Array {
  return codec.encode(value);
}

export function decode<T = unknown>(bytes: Uint8Array): T {
  return codec.decode(bytes) as T;
}

/** An error as it travels: enough to rebuild it with its class, name, message, stack, fields and cause. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /**
   * The error's class (its constructor's name) when that is not `name`: "DOMException"
   * for an AbortError, "QuotaError" for a class that keeps the name "Error".
   */
  className?: string;
  /** Own enumerable properties that serialize (e.g. `code`, `status`). */
  props?: Record<string, unknown>;
  cause?: SerializedError | { value: unknown };
  /** An AggregateError's `errors`. */
  errors?: Array<SerializedError | { value: unknown }>;
}

/** How deep causes and aggregated errors are followed. */
const MAX_ERROR_DEPTH = 8;

export function serializeError(err: unknown, depth = 0): SerializedError {
  if (!(err instanceof Error)) {
    return { name: "Error", message: describeThrown(err), props: { thrown: safeValue(err) } };
  }
  const out: SerializedError = { name: err.name, message: err.message };
  const className = classNameOf(err);
  if (className && className !== err.name) out.className = className;
  if (err.stack) out.stack = err.stack;
  const aggregate = err instanceof AggregateError && Array.isArray(err.errors);
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(err)) {
    if (key === "cause" || key === "name" || key === "message" || key === "stack" || (aggregate && key === "errors")) continue;
    const v = safeValue((err as unknown as Record<string, unknown>)[key]);
    if (v !== undefined) props[key] = v;
  }
  if (Object.keys(props).length > 0) out.props = props;
  if (depth < MAX_ERROR_DEPTH) {
    if ("cause" in err && err.cause !== undefined) out.cause = serializeReason(err.cause, depth + 1);
    if (aggregate) out.errors = (err as AggregateError).errors.map((e: unknown) => serializeReason(e, depth + 1));
  }
  return out;
}

function serializeReason(value: unknown, depth: number): SerializedError | { value: unknown } {
  return value instanceof Error ? serializeError(value, depth) : { value: safeValue(value) };
}

/** The name of the class the error was made by; undefined when it cannot be read (a Proxy, an odd prototype). */
function classNameOf(err: Error): string | undefined {
  try {
    const name = (Object.getPrototypeOf(err) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
    return typeof name === "string" && name !== "" ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Finds the first part of a value that cannot travel (functions, symbols,
 * class instances with no plain form). Returns a path like `[1].user.save`,
 * or null when everything serializes.
 */
export function findUnserializable(value: unknown, path = "", seen = new Set<object>()): string | null {
  const t = typeof value;
  if (t === "function") return `${path || "value"} (a function)`;
  if (t === "symbol") return `${path || "value"} (a symbol)`;
  if (value === null || t !== "object") return null;
  const obj = value as object;
  if (seen.has(obj)) return `${path || "value"} (a circular reference)`;
  if (isPlainData(obj)) return null;
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) {
        const bad = findUnserializable(obj[i], `${path}[${i}]`, seen);
        if (bad) return bad;
      }
      return null;
    }
    if (obj instanceof Map) {
      for (const [k, v] of obj) {
        const bad = findUnserializable(k, `${path}<key>`, seen) ?? findUnserializable(v, `${path}.get(${String(k)})`, seen);
        if (bad) return bad;
      }
      return null;
    }
    if (obj instanceof Set) {
      let i = 0;
      for (const v of obj) {
        const bad = findUnserializable(v, `${path}<set item ${i++}>`, seen);
        if (bad) return bad;
      }
      return null;
    }
    if (obj instanceof Error) return null;
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const name = (proto?.constructor as { name?: string } | undefined)?.name ?? "anonymous class";
      return `${path || "value"} (an instance of ${name}, which has no plain form)`;
    }
    for (const [k, v] of Object.entries(obj)) {
      const bad = findUnserializable(v, `${path}.${k}`, seen);
      if (bad) return bad;
    }
    return null;
  } finally {
    seen.delete(obj);
  }
}

function isPlainData(obj: object): boolean {
  return obj instanceof Date || ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer || obj instanceof RegExp;
}

function safeValue(v: unknown): unknown {
  return findUnserializable(v) === null ? v : String(v);
}

function describeThrown(v: unknown): string {
  if (typeof v === "string") return v;
  try {
    return `non-Error value thrown: ${JSON.stringify(v)}`;
  } catch {
    return `non-Error value thrown: ${String(v)}`;
  }
}

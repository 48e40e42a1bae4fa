// CBOR for arguments, results and errors (DESIGN §2 "Serialization").
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

/** An error as it travels: enough to rebuild it with its name, message, stack and cause. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** Own enumerable properties that serialize (e.g. `code`, `status`). */
  props?: Record<string, unknown>;
  cause?: SerializedError | { value: unknown };
}

export function serializeError(err: unknown, depth = 0): SerializedError {
  if (!(err instanceof Error)) {
    return { name: "Error", message: describeThrown(err), props: { thrown: safeValue(err) } };
  }
  const out: SerializedError = { name: err.name, message: err.message };
  if (err.stack) out.stack = err.stack;
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(err)) {
    if (key === "cause" || key === "name" || key === "message" || key === "stack") continue;
    const v = safeValue((err as unknown as Record<string, unknown>)[key]);
    if (v !== undefined) props[key] = v;
  }
  if (Object.keys(props).length > 0) out.props = props;
  if ("cause" in err && err.cause !== undefined && depth < 8) {
    out.cause = err.cause instanceof Error ? serializeError(err.cause, depth + 1) : { value: safeValue(err.cause) };
  }
  return out;
}

/** Rebuilds a remote error: a plain Error carrying the remote name, message, stack, props and cause. */
export function deserializeError(s: SerializedError): Error {
  const err = new Error(s.message);
  err.name = s.name;
  if (s.stack) err.stack = s.stack;
  if (s.props) Object.assign(err, s.props);
  if (s.cause) {
    const cause = "value" in s.cause ? s.cause.value : deserializeError(s.cause);
    Object.defineProperty(err, "cause", { value: cause, enumerable: false, writable: true, configurable: true });
  }
  return err;
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

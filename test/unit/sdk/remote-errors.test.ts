// Remote errors keep their class: serializeError on the runner, rebuildError
// in the caller, and the class lookups (a client's own classes, an app
// bundle's classes).
import { afterEach, describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { decode, encode, serializeError, type SerializedError } from "../../../sdk/src/wire/serialization";
import {
  attachErrorClasses,
  bundleHasErrorClassHook,
  clearBundleErrorClasses,
  errorClassLookup,
  rebuildError,
  type ErrorClass,
  type ErrorClassLookup,
} from "../../../sdk/src/remote-errors";
import { InvalidError } from "../../../sdk/src/errors";
import { Client } from "../../../sdk/src/client";
import { loadApp } from "../../../sdk/src/cli/load-app";

const none: ErrorClassLookup = () => undefined;

/** What the caller gets for `err` thrown remotely: serialized, through CBOR, rebuilt. */
function roundTrip(err: unknown, lookup: ErrorClassLookup = none): Error {
  return rebuildError(decode<SerializedError>(encode(serializeError(err))), lookup);
}

class QuotaError extends Error {
  override name = "QuotaError";
  static constructed = 0;
  constructor(
    readonly used: number,
    readonly limit: number,
  ) {
    super(`used ${used} of ${limit}`);
    QuotaError.constructed++;
  }
  get remaining(): number {
    return this.limit - this.used;
  }
}

/** A class that keeps the name "Error": only its class name tells it apart. */
class PlainNamed extends Error {}

const lookupOf =
  (...classes: ErrorClass[]): ErrorClassLookup =>
  (name) =>
    classes.find((c) => c.name === name);

describe("built-in error classes", () => {
  for (const Ctor of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
    it(`${Ctor.name} comes back as a ${Ctor.name} with its message, stack and fields`, () => {
      const original = Object.assign(new Ctor("not a number"), { code: "E_NAN", detail: { at: 3 } });
      const err = roundTrip(original);
      expect(err).toBeInstanceOf(Ctor);
      expect(err.constructor).toBe(Ctor);
      expect(err.name).toBe(Ctor.name);
      expect(err.message).toBe("not a number");
      expect(err.stack).toBe(original.stack);
      expect(err).toMatchObject({ code: "E_NAN", detail: { at: 3 } });
    });
  }

  it("AggregateError comes back with its errors rebuilt as their classes", () => {
    const err = roundTrip(new AggregateError([new TypeError("a"), new RangeError("b"), "plain value"], "several failed")) as AggregateError;
    expect(err).toBeInstanceOf(AggregateError);
    expect(err.message).toBe("several failed");
    expect(err.errors).toHaveLength(3);
    expect(err.errors[0]).toBeInstanceOf(TypeError);
    expect(err.errors[1]).toBeInstanceOf(RangeError);
    expect((err.errors[1] as Error).message).toBe("b");
    expect(err.errors[2]).toBe("plain value");
    expect(Object.keys(err)).not.toContain("errors");
  });

  it("DOMException comes back as a DOMException with its name and code", () => {
    const err = roundTrip(new DOMException("the operation was aborted", "AbortError")) as DOMException;
    expect(err).toBeInstanceOf(DOMException);
    expect(err.name).toBe("AbortError");
    expect(err.code).toBe(DOMException.ABORT_ERR);
    expect(err.message).toBe("the operation was aborted");
  });

  it("rebuilds a cause chain with each cause's class", () => {
    const root = new TypeError("root");
    const err = roundTrip(new Error("top", { cause: new RangeError("middle", { cause: root }) }));
    const middle = err.cause as Error;
    expect(middle).toBeInstanceOf(RangeError);
    expect(middle.cause).toBeInstanceOf(TypeError);
    expect((middle.cause as Error).message).toBe("root");
    expect((middle.cause as Error).stack).toBe(root.stack);
    expect(Object.keys(err)).not.toContain("cause");
    expect(roundTrip(new Error("x", { cause: { code: 7 } })).cause).toEqual({ code: 7 });
  });

  it("an Error whose name was changed stays an Error with that name", () => {
    const err = roundTrip(Object.assign(new Error("x"), { name: "ValidationError" }));
    expect(err.constructor).toBe(Error);
    expect(err.name).toBe("ValidationError");
  });
});

describe("user error classes", () => {
  it("come back as instances of their class with their fields, without running the constructor", () => {
    const before = QuotaError.constructed;
    const original = new QuotaError(12, 10);
    const err = roundTrip(original, lookupOf(QuotaError)) as QuotaError;
    expect(QuotaError.constructed).toBe(before + 1); // only the original
    expect(err).toBeInstanceOf(QuotaError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("QuotaError");
    expect(err.message).toBe("used 12 of 10");
    expect(err.used).toBe(12);
    expect(err.remaining).toBe(-2); // the class's own getter works on the rebuilt instance
    expect(err.stack).toBe(original.stack);
  });

  it("a class that keeps the name Error is found by its class name", () => {
    const err = roundTrip(new PlainNamed("x"), lookupOf(PlainNamed));
    expect(err).toBeInstanceOf(PlainNamed);
    expect(err.name).toBe("Error");
  });

  it("as a cause, inside a built-in error", () => {
    const err = roundTrip(new Error("wrapped", { cause: new QuotaError(3, 2) }), lookupOf(QuotaError));
    expect(err.cause).toBeInstanceOf(QuotaError);
    expect((err.cause as QuotaError).used).toBe(3);
  });

  it("an unknown class comes back as an Error with the original name, fields and stack", () => {
    const original = new QuotaError(5, 4);
    const err = roundTrip(original) as Error & { used?: number };
    expect(err.constructor).toBe(Error);
    expect(err.name).toBe("QuotaError");
    expect(err.message).toBe("used 5 of 4");
    expect(err.used).toBe(5);
    expect(err.stack).toBe(original.stack);
  });

  it("serialized fields never reach a prototype", () => {
    const crafted: SerializedError = {
      name: "QuotaError",
      message: "m",
      props: JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}, "prototype": 1, "used": 1}') as Record<
        string,
        unknown
      >,
    };
    for (const lookup of [none, lookupOf(QuotaError)]) {
      const err = rebuildError(crafted, lookup) as Error & { used?: number; polluted?: unknown };
      expect(err.used).toBe(1);
      expect(err.polluted).toBeUndefined();
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
      expect(Object.getPrototypeOf(err)).toBe(lookup === none ? Error.prototype : QuotaError.prototype);
      expect(err.constructor).toBe(lookup === none ? Error : QuotaError);
    }
    // The same through CBOR, where the key travels as given.
    const wire = decode<SerializedError>(encode({ name: "Error", message: "m", props: { ["__proto__"]: { polluted: true } } }));
    expect((rebuildError(wire, none) as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("malformed serialized errors still become Errors", () => {
    const err = rebuildError({ name: 5, message: "m", className: {}, props: "x", cause: "y", errors: "z" } as unknown as SerializedError, none);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("Error");
    const odd = rebuildError({ name: "AggregateError", message: "m", errors: [1, null, { value: 2 }] } as unknown as SerializedError, none) as AggregateError;
    expect(odd.errors).toEqual([1, null, 2]);
    let deep: SerializedError = { name: "Error", message: "bottom" };
    for (let i = 0; i < 10_000; i++) deep = { name: "Error", message: `level ${i}`, cause: deep };
    expect(rebuildError(deep, none).message).toBe("level 9999"); // bounded depth, no stack overflow
  });
});

describe("Client({ errors })", () => {
  const config = { url: "http://127.0.0.1:1", token: "sq_test" };

  it("rebuilds its listed classes, and only those", () => {
    const client = new Client({ ...config, errors: [QuotaError] });
    expect(errorClassLookup(client)("QuotaError")).toBe(QuotaError);
    expect(errorClassLookup(client)("PlainNamed")).toBeUndefined();
    expect(errorClassLookup(new Client(config))("QuotaError")).toBeUndefined();
  });

  it("refuses what is not an Error class, by position", () => {
    expect(() => new Client({ ...config, errors: [Map as unknown as ErrorClass] })).toThrow(
      new InvalidError("errors[0] of the Client options is not a class that extends Error"),
    );
    class QuotaErrorCopy extends Error {}
    Object.defineProperty(QuotaErrorCopy, "name", { value: "QuotaError" });
    expect(() => attachErrorClasses({}, [QuotaError, QuotaErrorCopy])).toThrow(/two classes named QuotaError/);
  });
});

describe("an app bundle's error classes", () => {
  const APP = fileURLToPath(new URL("../fixtures/errors-app.ts", import.meta.url));
  afterEach(() => clearBundleErrorClasses());

  it("register themselves when the bundle loads, exported or not", async () => {
    const { bundle } = await loadApp(APP);
    expect(bundleHasErrorClassHook(bundle)).toBe(true); // esbuild still emits the keepNames helper we hook
    const lookup = errorClassLookup({});
    const Hidden = lookup("HiddenError");
    expect(Hidden).toBeDefined();
    const err = rebuildError({ name: "HiddenError", message: "m", props: { code: 7 } }, lookup);
    expect(err).toBeInstanceOf(Hidden!);
    expect((err as Error & { describe(): string }).describe()).toBe("hidden 7");
    // Two different classes of one name: neither is guessed.
    expect(lookup("TwiceError")).toBeUndefined();
    // Built-in names stay built-in.
    expect(lookup("TypeError")).toBeUndefined();
  });
});

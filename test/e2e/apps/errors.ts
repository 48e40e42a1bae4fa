// Functions that throw built-in and user error classes: remote errors keep
// their class (issue 13, point 1).
import { App, FunctionCall, failedInputIndex } from "squall";
import { QuotaError } from "./quota-error";

export const app = new App("errors");

/** Throws the built-in error `kind`, with a cause chain of other built-in classes. */
export const throwBuiltin = app.function({ maxContainers: 2, concurrent: { maxInputs: 20 } }, async function throwBuiltin(kind: string) {
  const root = new URIError("root of the chain");
  switch (kind) {
    case "type":
      throw Object.assign(new TypeError("not a number", { cause: new RangeError("out of range", { cause: root }) }), { code: "E_NAN" });
    case "aggregate":
      throw new AggregateError([new TypeError("first"), new SyntaxError("second"), new QuotaError(3, 2)], "several failed");
    case "abort":
      throw new DOMException("the operation was aborted", "AbortError");
    case "eval":
      throw new EvalError("eval failed");
    case "reference":
      throw new ReferenceError("missing is not defined");
    default:
      return kind.length;
  }
});

/** Throws the user's own QuotaError when `used` is over 10. */
export const useQuota = app.function({ maxContainers: 2, concurrent: { maxInputs: 20 } }, async function useQuota(used: number) {
  if (used > 10) throw new QuotaError(used, 10, { cause: new RangeError(`${used} > 10`) });
  return used;
});

/** Calls useQuota from its container: code in a container knows the bundle's error classes too. */
export const relay = app.function({ maxContainers: 1 }, async function relay(used: number) {
  try {
    return `no error: ${await useQuota.remote(used)}`;
  } catch (err) {
    return `${err instanceof QuotaError} ${(err as QuotaError).overBy}`;
  }
});

/** Under `squall run`, the entrypoint and the functions share one bundle: QuotaError comes back as itself. */
app.localEntrypoint(async () => {
  const describe = (e: unknown): string =>
    `${e instanceof QuotaError} ${(e as QuotaError).used} ${(e as QuotaError).overBy} ${(e as Error).cause instanceof RangeError}`;
  try {
    await useQuota.remote(12);
  } catch (err) {
    console.log(`remote: ${describe(err)}`);
  }
  try {
    await useQuota.map([1, 2, 13]).toArray();
  } catch (err) {
    console.log(`map: ${describe(err)} input ${failedInputIndex(err)}`);
  }
  const [, returned] = await useQuota.map([1, 14], { returnExceptions: true, wrapReturnedExceptions: false }).toArray();
  console.log(`returned: ${describe(returned)}`);
  const call = await useQuota.spawn(15);
  console.log(`get: ${await call.get().then(String, describe)}`);
  console.log(`gather: ${await FunctionCall.gather(call).then(String, describe)}`);
});

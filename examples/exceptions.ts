// Exception handling (Modal's "Failures and retries" and map's
// return_exceptions, in Squall): remote errors keep their class, message,
// properties and cause; maps either throw or return them; retries and
// timeouts. Under `squall run` the entrypoint shares the app's bundle, so the
// app's own error classes (InvalidAgeError here) come back as themselves; a
// separate program lists them: `new Client({ errors: [InvalidAgeError] })`.
//   npx squall run examples/exceptions.ts
import { App, FunctionTimeoutError, UserCodeException, failedInputIndex } from "squall";

export const app = new App("exception-handling");

class InvalidAgeError extends Error {
  override name = "InvalidAgeError";
  constructor(readonly age: number) {
    super(`age must not be negative, got ${age}`, { cause: new RangeError("age < 0") });
  }
}

export const checkAge = app.function({ maxContainers: 2, concurrent: { maxInputs: 10 } }, async function checkAge(age: number) {
  if (age < 0) throw new InvalidAgeError(age);
  return `${age} ok`;
});

const attempts = new Map<string, number>();

// Fails twice, then succeeds: retries re-run it with backoff (one container, so the count is in memory).
export const flaky = app.function(
  { maxContainers: 1, retries: { maxRetries: 3, initialDelayMs: 200, backoffCoefficient: 2 } },
  async function flaky(key: string) {
    const n = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, n);
    if (n < 3) throw new Error(`attempt ${n} failed`);
    return `succeeded on attempt ${n}`;
  },
);

export const tooSlow = app.function({ timeoutMs: 1_000 }, async function tooSlow() {
  await new Promise((resolve) => setTimeout(resolve, 10_000));
});

app.localEntrypoint(async () => {
  // remote() rethrows the remote error itself, as an instance of its class.
  try {
    await checkAge.remote(-1);
  } catch (err) {
    if (!(err instanceof InvalidAgeError)) throw err;
    const cause = err.cause as Error;
    console.log(`remote(): ${err.name}: ${err.message} (age ${err.age}; cause ${cause.name}: ${cause.message}, a RangeError: ${cause instanceof RangeError})`);
  }

  // Without returnExceptions, the first failed input's error is thrown itself; failedInputIndex says which input.
  try {
    await checkAge.map([30, -2, 40]).toArray();
  } catch (err) {
    if (!(err instanceof InvalidAgeError)) throw err;
    console.log(`map(): InvalidAgeError from input ${failedInputIndex(err)}: ${err.message}`);
  }

  // returnExceptions: failures come back in the stream, in place.
  const results = await checkAge.map([30, -3, 40], { returnExceptions: true }).toArray();
  for (const r of results) {
    console.log("returnExceptions:", r instanceof UserCodeException ? `UserCodeException caused by ${(r.cause as Error).name}` : r);
  }

  // wrapReturnedExceptions: false: the remote errors themselves.
  const unwrapped = await checkAge.map([-4, 50], { returnExceptions: true, wrapReturnedExceptions: false }).toArray();
  for (const r of unwrapped) console.log("wrapReturnedExceptions false:", r instanceof InvalidAgeError ? `InvalidAgeError (age ${r.age})` : r);

  // retries: failed inputs run again with backoff.
  console.log("retries:", await flaky.remote("example"));

  // timeoutMs: an input that runs too long fails with FunctionTimeoutError.
  try {
    await tooSlow.remote();
  } catch (err) {
    console.log(`timeout: ${err instanceof FunctionTimeoutError ? "FunctionTimeoutError" : (err as Error).name}: ${(err as Error).message}`);
  }
});

// The five-minute example: deploy with `npx squall deploy examples/hello.ts`,
// then call it by name from any Node program (see examples/client.mjs).
import { App } from "squall";

export const app = new App("hello");

export const square = app.function({ maxContainers: 4, scaledownWindowMs: 10_000 }, async function square(x: number) {
  return x * x;
});

class ValidationError extends Error {
  override name = "ValidationError";
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

export const validate = app.function({}, async function validate(input: { age: number }) {
  if (input.age < 0) throw new ValidationError(`age must be positive, got ${input.age}`, "age");
  return { ok: true };
});

app.localEntrypoint(async () => {
  console.log("square(12) =", await square.remote(12));
  const squares = await square.map([1, 2, 3, 4, 5]).toArray();
  console.log("squares:", squares.join(", "));
});

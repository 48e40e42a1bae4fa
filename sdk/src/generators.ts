// Streaming generators (README "Streaming generators"): which functions are
// generators, told apart at definition by their constructor's name.

/** Whether `fn` is written as `async function*`. */
export function isAsyncGeneratorFunction(fn: unknown): boolean {
  return constructorName(fn) === "AsyncGeneratorFunction";
}

/** Whether `fn` is written as a synchronous `function*`. */
export function isSyncGeneratorFunction(fn: unknown): boolean {
  return constructorName(fn) === "GeneratorFunction";
}

function constructorName(fn: unknown): string | undefined {
  return typeof fn === "function" ? (fn as { constructor?: { name?: string } }).constructor?.name : undefined;
}

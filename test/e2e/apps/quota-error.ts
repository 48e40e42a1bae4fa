// A user's own error class, imported both by the app (which throws it) and
// by the tests (which catch it).
export class QuotaError extends Error {
  override name = "QuotaError";
  constructor(
    readonly used: number,
    readonly limit: number,
    options?: { cause?: unknown },
  ) {
    super(`quota exceeded: used ${used} of ${limit}`, options);
  }
  /** A method of the class: works on the caller's rebuilt instance too. */
  get overBy(): number {
    return this.used - this.limit;
  }
}

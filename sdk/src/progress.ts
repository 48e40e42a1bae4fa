// Progress of running maps, for whoever shows it (the CLI, during `squall
// run`). The app bundle carries its own copy of the SDK, so the listener sits
// on a global symbol that every copy shares.
export interface MapProgress {
  /** E.g. `evaluateModel.map()`. */
  call: string;
  /** Outputs handed to the caller so far. */
  done: number;
  /** Number of inputs, when the input collection knows its size. */
  total: number | null;
  startedAtMs: number;
  finished: boolean;
}

export type ProgressListener = (progress: MapProgress) => void;

const KEY = Symbol.for("squall.progress.v1");

type Slot = Record<symbol, ProgressListener | undefined>;

export function setProgressListener(listener: ProgressListener | null): void {
  (globalThis as unknown as Slot)[KEY] = listener ?? undefined;
}

/** Whether anyone listens: a map builds a progress report per output only then. */
export function progressListened(): boolean {
  return (globalThis as unknown as Slot)[KEY] !== undefined;
}

export function reportProgress(progress: MapProgress): void {
  (globalThis as unknown as Slot)[KEY]?.(progress);
}

/** The size of an input collection, if it has one (arrays, Sets, Maps, typed arrays). */
export function sizeOf(inputs: unknown): number | null {
  const o = inputs as { length?: unknown; size?: unknown };
  if (typeof o.length === "number") return o.length;
  if (typeof o.size === "number") return o.size;
  return null;
}

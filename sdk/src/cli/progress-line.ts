// Progress of long CLI work, on stderr (stdout belongs to results and to the
// user's entrypoint). On a terminal: one status line redrawn in place.
// Elsewhere (CI logs, pipes): plain lines, few enough not to flood a log.
import type { MapProgress, ProgressListener } from "../progress.js";
import type { Io } from "./io.js";

/** A terminal line is redrawn at most this often. */
const REDRAW_EVERY_MS = 200;
/** Without a terminal, a running map prints a line this often (a short map prints only its last). */
const PLAIN_EVERY_MS = 5_000;
const CLEAR_LINE = "\r\x1b[2K";

/** `square.map() 40/100 (12/s, ETA 5 s)` while running; `square.map() 100/100 in 8.1 s (12/s)` at the end. */
export function describeProgress(p: MapProgress, nowMs: number): string {
  const seconds = Math.max((nowMs - p.startedAtMs) / 1000, 0.001);
  const rate = p.done / seconds;
  const rateText = `${rate.toFixed(rate < 10 ? 1 : 0)}/s`;
  const count = `${p.call} ${p.done}${p.total === null ? "" : `/${p.total}`}`;
  if (p.finished) return `${count} in ${seconds.toFixed(1)} s (${rateText})`;
  const eta = p.total !== null && p.done > 0 ? `, ETA ${duration((p.total - p.done) / rate)}` : "";
  return `${count} (${rateText}${eta})`;
}

function duration(seconds: number): string {
  const s = Math.ceil(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** Shows maps' progress on `io`: redrawn in place on a terminal, plain lines otherwise. */
export function mapProgress(io: Io, clock: () => number = Date.now): ProgressListener {
  const redraw = io.redraw;
  if (redraw) {
    let lastDrawMs = 0;
    return (p) => {
      const now = clock();
      if (!p.finished && now - lastDrawMs < REDRAW_EVERY_MS) return;
      lastDrawMs = now;
      // A finished map leaves its final line behind.
      redraw(`${CLEAR_LINE}${describeProgress(p, now)}${p.finished ? "\n" : ""}`);
    };
  }
  // Maps run side by side (each its own line), so each keeps its own clock.
  const lastLineMs = new Map<string, number>();
  return (p) => {
    const now = clock();
    const key = `${p.call}@${p.startedAtMs}`;
    if (p.finished) {
      lastLineMs.delete(key);
      io.err(describeProgress(p, now));
      return;
    }
    if (now - (lastLineMs.get(key) ?? p.startedAtMs) < PLAIN_EVERY_MS) return;
    lastLineMs.set(key, now);
    io.err(describeProgress(p, now));
  };
}

/**
 * Runs one step that takes a moment (bundling, uploading) under a transient
 * line naming it. Terminal only: elsewhere the command's result says it all.
 */
export async function withStatus<T>(io: Io, text: string, work: () => Promise<T>): Promise<T> {
  io.redraw?.(`${CLEAR_LINE}${text}`);
  try {
    return await work();
  } finally {
    io.redraw?.(CLEAR_LINE);
  }
}

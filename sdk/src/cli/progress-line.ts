// One status line per running map on a terminal: done/total and rate.
import type { MapProgress, ProgressListener } from "../progress.js";

const REDRAW_EVERY_MS = 200;

/** `write` takes raw terminal text (no newline added). */
export function progressLine(write: (text: string) => void): ProgressListener {
  let lastDrawMs = 0;
  return (p: MapProgress) => {
    const now = Date.now();
    if (!p.finished && now - lastDrawMs < REDRAW_EVERY_MS) return;
    lastDrawMs = now;
    const seconds = Math.max((now - p.startedAtMs) / 1000, 0.001);
    const rate = (p.done / seconds).toFixed(p.done / seconds < 10 ? 1 : 0);
    const line = `${p.call} ${p.done}${p.total === null ? "" : `/${p.total}`} (${rate}/s)`;
    // \r redraws the line in place; a finished map leaves its final line behind.
    write(`\r\x1b[2K${line}${p.finished ? "\n" : ""}`);
  };
}

// The CLI's progress display: a line redrawn in place on a terminal, plain
// lines (few, and always the last) anywhere else.
import { describe, expect, it } from "vitest";
import type { Io } from "../../../sdk/src/cli/io";
import { describeProgress, mapProgress, withStatus } from "../../../sdk/src/cli/progress-line";
import type { MapProgress } from "../../../sdk/src/progress";

const START = 1_000_000;
const at = (done: number, finished = false, total: number | null = 100): MapProgress => ({ call: "square.map()", done, total, startedAtMs: START, finished });

function capture(tty: boolean): { io: Io; lines: string[]; raw: string[] } {
  const lines: string[] = [];
  const raw: string[] = [];
  const io: Io = { out: () => undefined, err: (t) => lines.push(t) };
  if (tty) io.redraw = (t) => raw.push(t);
  return { io, lines, raw };
}

describe("describeProgress", () => {
  it("shows done/total, the rate and an ETA while running, and the time taken at the end", () => {
    expect(describeProgress(at(40), START + 4_000)).toBe("square.map() 40/100 (10/s, ETA 6 s)");
    expect(describeProgress(at(3), START + 2_000)).toBe("square.map() 3/100 (1.5/s, ETA 1 min 5 s)");
    expect(describeProgress(at(100, true), START + 8_000)).toBe("square.map() 100/100 in 8.0 s (13/s)");
  });

  it("leaves out the total and the ETA when the inputs have no size", () => {
    expect(describeProgress(at(7, false, null), START + 2_000)).toBe("square.map() 7 (3.5/s)");
  });
});

describe("mapProgress", () => {
  it("on a terminal redraws one line, at most every 200 ms, and leaves the final line behind", () => {
    let now = START;
    const { io, raw, lines } = capture(true);
    const show = mapProgress(io, () => now);
    now += 1_000;
    show(at(10));
    now += 50;
    show(at(11)); // too soon: skipped
    now += 1_950;
    show(at(50, true));
    expect(raw).toEqual(["\r\x1b[2Ksquare.map() 10/100 (10/s, ETA 9 s)", "\r\x1b[2Ksquare.map() 50/100 in 3.0 s (17/s)\n"]);
    expect(lines).toEqual([]);
  });

  it("without a terminal prints a plain line every 5 s and always the last one", () => {
    let now = START;
    const { io, lines } = capture(false);
    const show = mapProgress(io, () => now);
    for (let done = 1; done <= 60; done++) {
      now += 200;
      show(at(done, done === 60, 60));
    }
    expect(lines).toEqual(["square.map() 25/60 (5.0/s, ETA 7 s)", "square.map() 50/60 (5.0/s, ETA 2 s)", "square.map() 60/60 in 12.0 s (5.0/s)"]);
  });
});

describe("withStatus", () => {
  it("shows a step on a terminal and clears it, even when the step fails", async () => {
    const { io, raw } = capture(true);
    await expect(withStatus(io, "bundling app.ts…", () => Promise.reject(new Error("broken")))).rejects.toThrow("broken");
    expect(raw).toEqual(["\r\x1b[2Kbundling app.ts…", "\r\x1b[2K"]);
  });

  it("prints nothing without a terminal", async () => {
    const { io, lines } = capture(false);
    expect(await withStatus(io, "bundling app.ts…", async () => 42)).toBe(42);
    expect(lines).toEqual([]);
  });
});

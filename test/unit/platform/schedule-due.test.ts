import { describe, it, expect, vi, afterEach } from "vitest";
import { Cron } from "croner";
import { latestDueAt, dueRun, nextRuns, activeScalingEntry } from "../../../src/schedule/due";
import type { ScheduleSpec } from "../../../sdk/src/wire/options";

// Fixed instants only; ISO strings carry their offset so the wall time reads at a glance.
const at = (iso: string): number => Date.parse(iso);
const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
const cron = (expression: string, timezone: string): ScheduleSpec => ({ type: "cron", expression, timezone });
const NY = "America/New_York";
const LONDON = "Europe/London";
/** Deployed long before every instant below, so the anchor never hides a due time. */
const DEPLOYED = at("2025-01-01T00:00:00Z");

afterEach(() => {
  vi.restoreAllMocks();
});

describe("cron due times across DST", () => {
  it("keeps a daily 06:00 at 06:00 local through both New York changes", () => {
    const spring = nextRuns(cron("0 6 * * *", NY), at("2026-03-06T12:00:00Z"), 3, DEPLOYED);
    expect(spring.map(iso)).toEqual(["2026-03-07T11:00:00.000Z", "2026-03-08T10:00:00.000Z", "2026-03-09T10:00:00.000Z"]);
    const fall = nextRuns(cron("0 6 * * *", NY), at("2026-10-30T12:00:00Z"), 3, DEPLOYED);
    expect(fall.map(iso)).toEqual(["2026-10-31T10:00:00.000Z", "2026-11-01T11:00:00.000Z", "2026-11-02T11:00:00.000Z"]);
    expect(iso(latestDueAt(cron("0 6 * * *", NY), at("2026-03-08T06:00:30-04:00"), DEPLOYED))).toBe("2026-03-08T10:00:00.000Z");
    expect(iso(latestDueAt(cron("0 6 * * *", NY), at("2026-11-01T05:59:00-05:00"), DEPLOYED))).toBe("2026-10-31T10:00:00.000Z");
  });

  it("fires a time skipped by the New York spring-forward once, at the minute after the jump", () => {
    const spec = cron("30 2 * * *", NY);
    const saturday = at("2026-03-07T02:30:00-05:00");
    // 01:59 EST: the clock has not reached 02:30 yet.
    expect(dueRun(spec, saturday, at("2026-03-08T01:59:00-05:00"), DEPLOYED)).toBeNull();
    // 02:00 EST becomes 03:00 EDT; 02:30 never shows, so it runs now.
    expect(dueRun(spec, saturday, at("2026-03-08T03:00:10-04:00"), DEPLOYED)).toEqual({ dueAtMs: at("2026-03-08T03:00:00-04:00") });
    // Not again at 03:30 EDT (the instant croner itself would map 02:30 to).
    expect(dueRun(spec, at("2026-03-08T03:00:00-04:00"), at("2026-03-08T03:30:00-04:00"), DEPLOYED)).toBeNull();
    expect(nextRuns(spec, at("2026-03-08T03:00:00-04:00"), 1, DEPLOYED)).toEqual([at("2026-03-09T02:30:00-04:00")]);
  });

  it("fires a time repeated by the New York fall-back once, at its first occurrence", () => {
    const spec = cron("30 1 * * *", NY);
    const first = at("2026-11-01T01:30:00-04:00");
    expect(dueRun(spec, at("2026-10-31T01:30:00-04:00"), at("2026-11-01T01:30:05-04:00"), DEPLOYED)).toEqual({ dueAtMs: first });
    // 01:30 EST, an hour later, shows the same wall time: nothing new is due.
    expect(latestDueAt(spec, at("2026-11-01T01:30:05-05:00"), DEPLOYED)).toBe(first);
    expect(dueRun(spec, first, at("2026-11-01T01:30:05-05:00"), DEPLOYED)).toBeNull();
    expect(nextRuns(spec, first, 2, DEPLOYED).map(iso)).toEqual(["2026-11-02T06:30:00.000Z", "2026-11-03T06:30:00.000Z"]);
  });

  it("handles the Europe/London changes the same way", () => {
    // 2026-03-29: 01:00 GMT jumps to 02:00 BST, so 01:30 fires at 02:00 BST (01:00Z).
    expect(nextRuns(cron("30 1 * * *", LONDON), at("2026-03-28T12:00:00Z"), 2, DEPLOYED).map(iso)).toEqual([
      "2026-03-29T01:00:00.000Z",
      "2026-03-30T00:30:00.000Z",
    ]);
    // 2026-10-25: 02:00 BST falls back to 01:00 GMT; 01:30 runs at 01:30 BST (00:30Z), not again at 01:30Z.
    expect(nextRuns(cron("30 1 * * *", LONDON), at("2026-10-24T12:00:00Z"), 2, DEPLOYED).map(iso)).toEqual([
      "2026-10-25T00:30:00.000Z",
      "2026-10-26T01:30:00.000Z",
    ]);
    expect(latestDueAt(cron("30 1 * * *", LONDON), at("2026-10-25T01:45:00Z"), DEPLOYED)).toBe(at("2026-10-25T00:30:00Z"));
    expect(nextRuns(cron("0 6 * * *", LONDON), at("2026-03-28T00:00:00Z"), 2, DEPLOYED).map(iso)).toEqual([
      "2026-03-28T06:00:00.000Z",
      "2026-03-29T05:00:00.000Z",
    ]);
    expect(nextRuns(cron("0 6 * * *", LONDON), at("2026-10-24T00:00:00Z"), 2, DEPLOYED).map(iso)).toEqual([
      "2026-10-24T05:00:00.000Z",
      "2026-10-25T06:00:00.000Z",
    ]);
  });

  it("merges several skipped times into one run and never goes back in time inside the repeated hour", () => {
    const spec = cron("*/30 * * * *", NY);
    // 02:00 and 02:30 EST do not exist; both fall on 03:00 EDT, which also matches itself.
    expect(nextRuns(spec, at("2026-03-08T01:00:00-05:00"), 4, DEPLOYED).map(iso)).toEqual([
      "2026-03-08T06:30:00.000Z",
      "2026-03-08T07:00:00.000Z",
      "2026-03-08T07:30:00.000Z",
      "2026-03-08T08:00:00.000Z",
    ]);
    // Asked from 01:10 EST (the second pass), the next run is 02:00 EST, not the 01:30 EDT that already passed.
    expect(nextRuns(spec, at("2026-11-01T01:10:00-05:00"), 2, DEPLOYED).map(iso)).toEqual(["2026-11-01T07:00:00.000Z", "2026-11-01T07:30:00.000Z"]);
    // Documented consequence of "first occurrence only": the repeated hour has no runs of its own.
    expect(nextRuns(spec, at("2026-11-01T00:45:00-04:00"), 3, DEPLOYED).map(iso)).toEqual([
      "2026-11-01T05:00:00.000Z",
      "2026-11-01T05:30:00.000Z",
      "2026-11-01T07:00:00.000Z",
    ]);
  });

  it("agrees with nextRuns minute by minute across both New York nights", () => {
    const spec = cron("*/20 0-3 * * *", NY);
    for (const [from, to] of [
      ["2026-03-08T04:00:00Z", "2026-03-08T09:00:00Z"],
      ["2026-11-01T03:00:00Z", "2026-11-01T09:00:00Z"],
    ]) {
      const runs = nextRuns(spec, at(from), 50, DEPLOYED).filter((t) => t <= at(to));
      let expected = latestDueAt(spec, at(from), DEPLOYED);
      for (let t = at(from); t <= at(to); t += 60_000) {
        if (runs.includes(t)) expected = t;
        expect(iso(latestDueAt(spec, t + 59_999, DEPLOYED)), new Date(t).toISOString()).toBe(iso(expected));
      }
    }
  });
});

describe("dueRun", () => {
  const daily = cron("0 6 * * *", NY);
  const yesterday = at("2026-06-09T06:00:00-04:00");
  const six = at("2026-06-10T06:00:00-04:00");

  it("fires once when the handler runs twice in the same minute", () => {
    expect(dueRun(daily, yesterday, at("2026-06-10T06:00:02-04:00"), DEPLOYED)).toEqual({ dueAtMs: six });
    // The first run stored 06:00 as last_due_at.
    expect(dueRun(daily, six, at("2026-06-10T06:00:03-04:00"), DEPLOYED)).toBeNull();
  });

  it("still fires when the handler runs late", () => {
    expect(dueRun(daily, yesterday, at("2026-06-10T06:00:45-04:00"), DEPLOYED)).toEqual({ dueAtMs: six });
    expect(dueRun(daily, yesterday, at("2026-06-10T06:07:00-04:00"), DEPLOYED)).toEqual({ dueAtMs: six });
    expect(dueRun(daily, yesterday, at("2026-06-10T05:59:59-04:00"), DEPLOYED)).toBeNull();
  });

  it("catches up after a 3-hour gap with one run, the latest missed due time", () => {
    const every5 = cron("*/5 * * * *", "UTC");
    const last = at("2026-06-10T09:00:00Z");
    // The platform was down from 09:01 to 12:02; 35 due times were missed.
    expect(dueRun(every5, last, at("2026-06-10T12:02:10Z"), DEPLOYED)).toEqual({ dueAtMs: at("2026-06-10T12:00:00Z") });
    const caughtUp = at("2026-06-10T12:00:00Z");
    expect(dueRun(every5, caughtUp, at("2026-06-10T12:03:00Z"), DEPLOYED)).toBeNull();
    expect(dueRun(every5, caughtUp, at("2026-06-10T12:04:59Z"), DEPLOYED)).toBeNull();
    expect(dueRun(every5, caughtUp, at("2026-06-10T12:05:01Z"), DEPLOYED)).toEqual({ dueAtMs: at("2026-06-10T12:05:00Z") });
  });

  it("does not fire for due times before the deploy", () => {
    const deployed = at("2026-06-10T06:00:30-04:00");
    expect(dueRun(daily, null, at("2026-06-10T06:01:00-04:00"), deployed)).toBeNull();
    expect(dueRun(daily, null, at("2026-06-11T06:00:10-04:00"), deployed)).toEqual({ dueAtMs: at("2026-06-11T06:00:00-04:00") });
    // Deployed just before the minute: that minute's run is due.
    expect(dueRun(daily, null, at("2026-06-10T06:00:05-04:00"), at("2026-06-10T05:59:58-04:00"))).toEqual({ dueAtMs: six });
  });

  it("runs a 5-minute period every 5 minutes from the deploy, on the minute", () => {
    const period: ScheduleSpec = { type: "period", seconds: 300 };
    const deployed = at("2026-06-10T12:03:27Z");
    expect(latestDueAt(period, at("2026-06-10T12:03:59Z"), deployed)).toBeNull();
    expect(dueRun(period, null, at("2026-06-10T12:07:59Z"), deployed)).toBeNull();
    expect(dueRun(period, null, at("2026-06-10T12:08:00Z"), deployed)).toEqual({ dueAtMs: at("2026-06-10T12:08:00Z") });
    const last = at("2026-06-10T12:08:00Z");
    expect(dueRun(period, last, at("2026-06-10T12:12:30Z"), deployed)).toBeNull();
    expect(dueRun(period, last, at("2026-06-10T12:31:00Z"), deployed)).toEqual({ dueAtMs: at("2026-06-10T12:28:00Z") });
    expect(nextRuns(period, deployed, 3, deployed).map(iso)).toEqual(["2026-06-10T12:08:00.000Z", "2026-06-10T12:13:00.000Z", "2026-06-10T12:18:00.000Z"]);
    expect(nextRuns(period, at("2026-06-10T12:13:00Z"), 1, deployed)).toEqual([at("2026-06-10T12:18:00Z")]);
    expect(nextRuns(period, at("2026-06-10T11:00:00Z"), 1, deployed)).toEqual([at("2026-06-10T12:08:00Z")]);
  });

  it("finds a yearly due time without walking the year minute by minute", () => {
    const nextRun = vi.spyOn(Cron.prototype, "nextRun");
    const yearly = cron("0 6 1 1 *", NY);
    expect(iso(latestDueAt(yearly, at("2026-12-31T23:00:00Z"), at("2020-01-01T00:00:00Z")))).toBe("2026-01-01T11:00:00.000Z");
    expect(latestDueAt(yearly, at("2026-12-31T23:00:00Z"), at("2026-01-01T11:00:01Z"))).toBeNull();
    expect(nextRun.mock.calls.length).toBeLessThan(150);
  });
});

describe("activeScalingEntry", () => {
  const entries = [
    { cron: "0 6 * * *", timezone: NY, set: { minContainers: 4 } },
    { cron: "0 22 * * *", timezone: NY, set: { minContainers: 0 } },
  ];

  it("picks the entry whose time passed most recently, in the entries' own timezone", () => {
    expect(activeScalingEntry(entries, at("2026-07-01T12:00:00-04:00"))).toEqual({ index: 0, dueAtMs: at("2026-07-01T06:00:00-04:00") });
    expect(activeScalingEntry(entries, at("2026-07-01T23:00:00-04:00"))).toEqual({ index: 1, dueAtMs: at("2026-07-01T22:00:00-04:00") });
    // 04:00 in New York is 08:00 UTC: read in UTC, 06:00 would already have passed.
    expect(activeScalingEntry(entries, at("2026-07-01T04:00:00-04:00"))).toEqual({ index: 1, dueAtMs: at("2026-06-30T22:00:00-04:00") });
  });

  it("looks back 8 days, so a weekly entry stays active all week", () => {
    const weekly = [{ cron: "0 6 * * 1", timezone: LONDON }];
    expect(activeScalingEntry(weekly, at("2026-07-12T23:00:00+01:00"))).toEqual({ index: 0, dueAtMs: at("2026-07-06T06:00:00+01:00") });
    expect(activeScalingEntry([{ cron: "0 6 1 1 *", timezone: LONDON }], at("2026-07-12T23:00:00+01:00"))).toBeNull();
  });

  it("lets the later entry win a tie", () => {
    const tie = [
      { cron: "0 6 * * *", timezone: "UTC" },
      { cron: "0 6 * * *", timezone: "UTC" },
    ];
    expect(activeScalingEntry(tie, at("2026-07-01T07:00:00Z"))).toEqual({ index: 1, dueAtMs: at("2026-07-01T06:00:00Z") });
  });
});

describe("nextRuns", () => {
  it("lists the UTC instants of a New York schedule across the spring-forward weekend", () => {
    const weekdays9 = cron("0 9 * * 1-5", NY);
    expect(nextRuns(weekdays9, at("2026-03-05T09:00:00-05:00"), 3, DEPLOYED).map(iso)).toEqual([
      "2026-03-06T14:00:00.000Z",
      "2026-03-09T13:00:00.000Z",
      "2026-03-10T13:00:00.000Z",
    ]);
  });

  it("starts no earlier than the deploy", () => {
    const deployed = at("2026-06-10T06:00:30-04:00");
    expect(nextRuns(cron("0 6 * * *", NY), at("2026-06-01T00:00:00Z"), 1, deployed)).toEqual([at("2026-06-11T06:00:00-04:00")]);
  });
});

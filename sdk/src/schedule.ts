// Schedules for the `schedule` option: a Cron timetable in any IANA zone, or
// a fixed Period. Both become a ScheduleSpec in the deploy manifest; the
// platform validates them at deploy (and `squall deploy` before upload).
import type { ScheduleSpec } from "./wire/options.js";

export class Cron {
  readonly timezone: string;

  /** `expression` has 5 fields (minute hour day-of-month month day-of-week); `timezone` defaults to UTC. */
  constructor(
    readonly expression: string,
    options: { timezone?: string } = {},
  ) {
    this.timezone = options.timezone ?? "UTC";
  }

  toSpec(): ScheduleSpec {
    return { type: "cron", expression: this.expression, timezone: this.timezone };
  }
}

export interface PeriodUnits {
  days?: number;
  hours?: number;
  minutes?: number;
  seconds?: number;
}

export class Period {
  readonly seconds: number;

  /** Runs every `days + hours + minutes + seconds` (at least one minute). */
  constructor(units: PeriodUnits) {
    this.seconds = (units.days ?? 0) * 86_400 + (units.hours ?? 0) * 3_600 + (units.minutes ?? 0) * 60 + (units.seconds ?? 0);
  }

  toSpec(): ScheduleSpec {
    return { type: "period", seconds: this.seconds };
  }
}

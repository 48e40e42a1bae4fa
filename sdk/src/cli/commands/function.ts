import type { AutoscalerSettings, AutoscalerUpdate } from "../../wire/options.js";
import type { StartsHeldBack } from "../../wire/api.js";
import { getCurrentStats, updateAutoscaler } from "../../pool-control.js";
import type { Command } from "../command.js";
import { intOption } from "../args.js";
import { UsageError, table, toJson } from "../io.js";
import { PARAMS_OPTION, poolTarget } from "./pool-target.js";
import { variantLabel } from "../../wire/variant.js";

export const functionStats: Command = {
  path: "function stats",
  args: "APP FN",
  summary: "backlog, running inputs, containers by state and the autoscaler settings in effect",
  options: PARAMS_OPTION,
  arity: [2, 2],
  async run(ctx) {
    const [app, fn] = ctx.args;
    const s = await getCurrentStats(await poolTarget(ctx, app, fn));
    if (ctx.json) {
      ctx.io.out(toJson(s));
      return;
    }
    ctx.io.out(
      table(
        ["BACKLOG", "RUNNING", "STARTING", "IDLE", "BUSY", "CONTAINERS"],
        [[s.backlog, s.runningInputs, s.containers.starting, s.containers.idle, s.containers.busy, s.containers.total].map(String)],
      ),
    );
    if (s.startsHeldBack) ctx.io.out(heldBackLine(s.startsHeldBack, Date.now()));
    if (s.variant) ctx.io.out(`variant: ${variantLabel(fn, s.variant)}`);
    for (const v of s.variants ?? []) ctx.io.out(`variant: ${variantLabel(fn, v)} (see it with --variant ${v})`);
    ctx.io.out("");
    const settings = Object.keys(s.autoscaler) as Array<keyof AutoscalerSettings>;
    ctx.io.out(
      table(
        ["AUTOSCALER", "VALUE", "SOURCE"],
        settings.map((key) => [key, String(s.autoscaler[key] ?? "none"), s.autoscalerSources?.[key] ?? "declared"]),
      ),
    );
    if (s.adaptive) {
      const a = s.adaptive;
      const prewarm = a.prewarmAtMs === null ? "none planned" : new Date(a.prewarmAtMs).toISOString();
      ctx.io.out("");
      ctx.io.out(
        table(
          ["AUTO SCALE-DOWN", "VALUE"],
          [
            ["histogram", a.representative ? `representative (${a.samples} idle intervals)` : `not representative (${a.samples} idle intervals)`],
            ["keep-alive", `${(a.keepAliveMs / 1000).toFixed(1)} s`],
            ["pre-warm after idle", a.prewarmAfterMs === null ? "none" : `${(a.prewarmAfterMs / 1000).toFixed(1)} s`],
            ["next pre-warm", prewarm],
            ["why", a.reason],
          ],
        ),
      );
    }
  },
};

export const functionUpdateAutoscaler: Command = {
  path: "function update-autoscaler",
  args: "APP FN",
  summary: "override autoscaler settings now (they last until the app's next deploy)",
  options: {
    "min-containers": { type: "string", value: "N", help: "containers kept running even when idle" },
    "max-containers": { type: "string", value: "N", help: 'upper bound on containers ("none" for no bound)' },
    "buffer-containers": { type: "string", value: "N", help: "extra idle containers kept while the function is busy" },
    "scaledown-window-ms": {
      type: "string",
      value: "N",
      help: 'how long a container may stay idle before it stops ("auto": learned from the function\'s idle intervals)',
    },
    ...PARAMS_OPTION,
  },
  arity: [2, 2],
  async run(ctx) {
    const [app, fn] = ctx.args;
    const update: AutoscalerUpdate = {};
    const min = intOption(ctx.values, "min-containers");
    if (min !== undefined) update.minContainers = min;
    if (ctx.values["max-containers"] === "none") update.maxContainers = null;
    else {
      const max = intOption(ctx.values, "max-containers");
      if (max !== undefined) update.maxContainers = max;
    }
    const buffer = intOption(ctx.values, "buffer-containers");
    if (buffer !== undefined) update.bufferContainers = buffer;
    if (ctx.values["scaledown-window-ms"] === "auto") update.scaledownWindowMs = "auto";
    else {
      const window = intOption(ctx.values, "scaledown-window-ms");
      if (window !== undefined) update.scaledownWindowMs = window;
    }
    if (Object.keys(update).length === 0) {
      throw new UsageError("name at least one setting: --min-containers, --max-containers, --buffer-containers or --scaledown-window-ms");
    }
    const now = await updateAutoscaler(await poolTarget(ctx, app, fn), fn, update);
    if (ctx.json) {
      ctx.io.out(toJson(now));
      return;
    }
    ctx.io.out(
      `${app}.${fn} now: minContainers ${now.minContainers}, maxContainers ${now.maxContainers ?? "none"}, ` +
        `bufferContainers ${now.bufferContainers}, scaledownWindowMs ${now.scaledownWindowMs}`,
    );
  },
};

const HELD_BACK_REASONS: Record<StartsHeldBack["reason"], string> = {
  capacity: "no room for containers on the platform",
  platform_error: "the platform failed to start a container",
  start_failures: "containers failed to start repeatedly",
};

/** One line saying why the pool starts no containers and when it tries again. */
export function heldBackLine(held: StartsHeldBack, nowMs: number): string {
  const inSeconds = Math.max(0, Math.ceil((held.untilMs - nowMs) / 1000));
  return `starts held back: ${HELD_BACK_REASONS[held.reason]}, next try in ${inSeconds} s (${held.message})`;
}

import type { FunctionLogLine } from "../../wire/api.js";
import { sleep } from "../../http.js";
import { instanceQuery, type CallTarget } from "../../calls.js";
import type { Command, Context } from "../command.js";
import { CliError } from "../io.js";
import { PARAMS_OPTION, poolTarget } from "./pool-target.js";
import { ROUTES } from "../../wire/routes.js";

interface PoolCursor {
  name: string;
  target: CallTarget;
  after: number;
}

const FOLLOW_POLL_MS = 1_000;
/** The most lines one request returns (the route's own limit). */
const PAGE_LINES = 1_000;

export const logs: Command = {
  path: "logs",
  args: "APP [FN]",
  summary: "print the output of an app's containers (all its functions, or FN), each line with its function, container and call",
  options: { follow: { type: "boolean", help: "keep printing new lines until Ctrl-C" }, ...PARAMS_OPTION },
  arity: [1, 2],
  async run(ctx) {
    const [app, fn] = ctx.args;
    const names = fn ? [fn] : await functionsOf(ctx, app);
    const pools: PoolCursor[] = [];
    for (const name of names) pools.push({ name, target: await poolTarget(ctx, app, name), after: 0 });
    for (;;) {
      const batch: Array<FunctionLogLine & { function: string }> = [];
      for (const pool of pools) for (const line of await readNew(ctx, pool)) batch.push({ function: pool.name, ...line });
      // Several functions' lines interleave by time, as they happened.
      batch.sort((a, b) => a.ts - b.ts);
      for (const line of batch) ctx.io.out(ctx.json ? JSON.stringify(line) : formatLine(line));
      if (ctx.values.follow !== true) return;
      await sleep(FOLLOW_POLL_MS);
    }
  },
};

/** Every line the pool has after the cursor (its tail is bounded, so this is a few pages at most). */
async function readNew(ctx: Context, pool: PoolCursor): Promise<FunctionLogLine[]> {
  const out: FunctionLogLine[] = [];
  for (;;) {
    const res = await ctx.http().send(ROUTES.logs, {
      params: { functionId: pool.target.functionId },
      query: { ...instanceQuery(pool.target), after: pool.after, limit: PAGE_LINES },
    });
    pool.after = res.cursor;
    out.push(...res.lines);
    if (res.lines.length < PAGE_LINES) return out;
  }
}

/** `2025-01-01T12:00:00.000Z square ct-… fc-…1a2b3c4d text`; the dashboard shows calls by the same short id. */
function formatLine(line: FunctionLogLine & { function: string }): string {
  const call = line.callId ? `fc-…${line.callId.slice(-8)}` : "-";
  // A multi-line entry (a stack trace) stays one entry: its further lines are indented under it.
  return `${new Date(line.ts).toISOString()} ${line.function} ${line.containerId} ${call} ${line.text.replace(/\n/g, "\n    ")}`;
}

/** The app's functions; classes need --params to name an instance, so they are left out. */
async function functionsOf(ctx: Context, app: string): Promise<string[]> {
  const res = await ctx.http().send(ROUTES.listApps, {});
  const found = res.apps.find((a) => a.name === app);
  if (!found) throw new CliError(`app ${app} not found`);
  const names: string[] = [];
  for (const name of found.functions) {
    const info = await ctx.http().send(ROUTES.lookupFunction, { params: { app, name } });
    if (info.kind === "function") names.push(name);
  }
  return names;
}

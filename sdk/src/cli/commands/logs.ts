import type { FunctionInfo, ListAppsResponse } from "../../wire/api.js";
import { sleep } from "../../http.js";
import { instanceQuery, type CallTarget } from "../../calls.js";
import type { Command, Context } from "../command.js";
import { CliError } from "../io.js";
import { PARAMS_OPTION, poolTarget } from "./pool-target.js";

interface LogLine {
  seq: number;
  ts: number;
  containerId: string;
  callId: string | null;
  stream: string;
  text: string;
}

interface LogsResponse {
  lines: LogLine[];
  cursor: number;
}

const FOLLOW_POLL_MS = 1_000;

export const logs: Command = {
  path: "logs",
  args: "APP [FN]",
  summary: "print the recent output of an app's containers (all its functions, or FN)",
  options: { follow: { type: "boolean", help: "keep printing new lines until Ctrl-C" }, ...PARAMS_OPTION },
  arity: [1, 2],
  async run(ctx) {
    const [app, fn] = ctx.args;
    const names = fn ? [fn] : await functionsOf(ctx, app);
    const pools: Array<{ name: string; target: CallTarget; after: number }> = [];
    for (const name of names) pools.push({ name, target: await poolTarget(ctx, app, name), after: 0 });
    for (;;) {
      for (const pool of pools) {
        const res = await ctx.http().request<LogsResponse>("GET", `/v1/functions/${encodeURIComponent(pool.target.functionId)}/logs`, {
          query: { ...instanceQuery(pool.target), after: pool.after },
        });
        pool.after = res.cursor;
        for (const line of res.lines) {
          ctx.io.out(ctx.json ? JSON.stringify({ function: pool.name, ...line }) : `${new Date(line.ts).toISOString()} ${pool.name} ${line.containerId.slice(0, 12)} ${line.text}`);
        }
      }
      if (ctx.values.follow !== true) return;
      await sleep(FOLLOW_POLL_MS);
    }
  },
};

/** The app's functions; classes need --params to name an instance, so they are left out. */
async function functionsOf(ctx: Context, app: string): Promise<string[]> {
  const res = await ctx.http().request<ListAppsResponse>("GET", "/v1/apps");
  const found = res.apps.find((a) => a.name === app);
  if (!found) throw new CliError(`app ${app} not found`);
  const names: string[] = [];
  for (const name of found.functions) {
    const info = await ctx.http().request<FunctionInfo>("GET", `/v1/apps/${encodeURIComponent(app)}/functions/${encodeURIComponent(name)}`);
    if (info.kind === "function") names.push(name);
  }
  return names;
}

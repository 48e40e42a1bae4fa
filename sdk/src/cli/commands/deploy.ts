import type { DeployRequest, FunctionInfo } from "../../wire/api.js";
import type { FunctionOptionsWire } from "../../wire/options.js";
import type { Command } from "../command.js";
import { buildManifest, loadApp } from "../load-app.js";
import { table, toJson } from "../io.js";
import { withStatus } from "../progress-line.js";
import { ROUTES } from "../../wire/routes.js";

export const deploy: Command = {
  path: "deploy",
  args: "FILE",
  summary: "bundle FILE and deploy its app (replaces the app's previous version)",
  options: { name: { type: "string", value: "APP", help: "deploy under this app name instead of the one in FILE" } },
  arity: [1, 1],
  async run(ctx) {
    const [file] = ctx.args;
    const { registered, bundle } = await withStatus(ctx.io, `bundling ${file}…`, () => loadApp(file));
    const appName = typeof ctx.values.name === "string" ? ctx.values.name : registered.name;
    const request: DeployRequest = { manifest: buildManifest(registered, appName), bundle };
    const res = await withStatus(ctx.io, `deploying ${appName} (${kib(bundle)} KiB)…`, () =>
      ctx.http().send(ROUTES.deploy, { params: { app: appName }, body: request }),
    );
    if (ctx.json) {
      ctx.io.out(toJson(res));
      return;
    }
    ctx.io.out(`deployed ${res.appName} version ${res.version} (${res.deploymentId}, bundle ${kib(bundle)} KiB)`);
    ctx.io.out(
      table(
        ["NAME", "KIND", "SETTINGS"],
        res.functions.map((f) => [f.name, f.kind, describe(f)]),
      ).replace(/^/gm, "  "),
    );
  },
};

function kib(bundle: string): number {
  return Math.ceil(Buffer.byteLength(bundle) / 1024);
}

/** One line per function: its methods and the options it sets (defaults are not repeated). */
export function describe(f: FunctionInfo): string {
  const parts: string[] = [];
  if (f.kind === "class") parts.push(`methods ${f.methods.join(", ")}`);
  parts.push(...describeOptions(f.options));
  return parts.join("; ") || "defaults";
}

function describeOptions(o: FunctionOptionsWire): string[] {
  const parts: string[] = [];
  for (const key of ["minContainers", "maxContainers", "bufferContainers", "scaledownWindowMs", "timeoutMs", "startupTimeoutMs"] as const) {
    if (o[key] !== undefined) parts.push(`${key} ${o[key]}`);
  }
  if (o.batched) parts.push(`batched maxBatchSize ${o.batched.maxBatchSize}, waitMs ${o.batched.waitMs}`);
  if (o.concurrent) parts.push(`concurrent maxInputs ${o.concurrent.maxInputs}, targetInputs ${o.concurrent.targetInputs ?? o.concurrent.maxInputs}`);
  if (o.retries !== undefined) parts.push(`retries ${typeof o.retries === "number" ? o.retries : o.retries.maxRetries}`);
  if (o.schedule?.type === "cron") parts.push(`schedule cron "${o.schedule.expression}" ${o.schedule.timezone}`);
  if (o.schedule?.type === "period") parts.push(`schedule every ${o.schedule.seconds} s`);
  if (o.scalingSchedule?.length) parts.push(`scalingSchedule ${o.scalingSchedule.length} entries`);
  return parts;
}

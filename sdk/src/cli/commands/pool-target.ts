// Which pool a `squall function …` / `squall logs` command is about: a
// function, or one instance of a class named by --params; either one's
// variant named by --variant.
import type { CallTarget } from "../../calls.js";
import { encodeInstanceParams } from "../../cls.js";
import type { OptionSpec } from "../args.js";
import { jsonOption } from "../args.js";
import type { Context } from "../command.js";
import { UsageError } from "../io.js";
import { ROUTES } from "../../wire/routes.js";

export const PARAMS_OPTION: Record<string, OptionSpec> = {
  params: { type: "string", value: "JSON", help: 'for a class: the instance\'s constructor params, e.g. \'{"modelVersion":"3.5"}\'' },
  variant: { type: "string", value: "OPTIONS", help: "a variant (withOptions / withConcurrency), e.g. maxContainers=2,maxInputs=4" },
};

export async function poolTarget(ctx: Context, app: string, name: string): Promise<CallTarget> {
  const info = await ctx.http().send(ROUTES.lookupFunction, { params: { app, name } });
  const variant = ctx.values.variant;
  const target: CallTarget = { client: ctx.client(), functionId: info.functionId, ...(typeof variant === "string" && variant ? { variant } : {}) };
  const params = jsonOption(ctx.values, "params");
  if (info.kind === "class") {
    if (params === undefined) throw new UsageError(`${name} is a class: name the instance with --params JSON (its constructor params)`);
    // Encoded as ClsHandle.instance() does (keys sorted), so both name the same pool.
    return { ...target, params: encodeInstanceParams("--params", params) };
  }
  if (params !== undefined) throw new UsageError(`${name} is a function, not a class: it takes no --params`);
  return target;
}

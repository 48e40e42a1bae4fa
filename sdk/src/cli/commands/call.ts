import { FunctionCall } from "../../function-call.js";
import type { Command } from "../command.js";
import { intOption } from "../args.js";
import { CliError, show, toJson } from "../io.js";
import { SquallError } from "../../errors.js";

export const callGet: Command = {
  path: "call get",
  args: "ID",
  summary: "wait for a spawned call and print its result",
  options: { "timeout-ms": { type: "string", value: "N", help: "give up after N ms (default: wait as long as the call runs)" } },
  arity: [1, 1],
  async run(ctx) {
    const [id] = ctx.args;
    const call = FunctionCall.fromId(ctx.client(), id);
    let result: unknown;
    try {
      result = await call.get({ timeoutMs: intOption(ctx.values, "timeout-ms") });
    } catch (err) {
      if (err instanceof SquallError) throw err;
      // The function itself threw: show the remote error as one line.
      const e = err as Error;
      throw new CliError(`call ${id} failed: ${e.name}: ${e.message}`);
    }
    ctx.io.out(ctx.json ? toJson({ callId: id, result }) : show(result));
  },
};

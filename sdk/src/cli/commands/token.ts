import type { Command } from "../command.js";
import { toJson } from "../io.js";
import { ROUTES } from "../../wire/routes.js";

export const tokenCreate: Command = {
  path: "token create",
  args: "",
  summary: "create another token for your workspace",
  arity: [0, 0],
  async run(ctx) {
    const res = await ctx.http().send(ROUTES.createToken, {});
    if (ctx.json) {
      ctx.io.out(toJson(res));
      return;
    }
    ctx.io.out(res.token);
    ctx.io.err(`token ${res.tokenId} for workspace ${res.workspaceId}; it is shown only once`);
  },
};

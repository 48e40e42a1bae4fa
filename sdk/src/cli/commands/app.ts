import type { Command } from "../command.js";
import { table, toJson } from "../io.js";
import { ROUTES } from "../../wire/routes.js";

export const appList: Command = {
  path: "app list",
  args: "",
  summary: "list the workspace's apps",
  arity: [0, 0],
  async run(ctx) {
    const res = await ctx.http().send(ROUTES.listApps, {});
    if (ctx.json) {
      ctx.io.out(toJson(res));
      return;
    }
    if (res.apps.length === 0) {
      ctx.io.out("no apps yet: deploy one with `squall deploy FILE`");
      return;
    }
    const rows = res.apps.map((a) => [a.name, a.state + (a.ephemeral ? " (ephemeral)" : ""), String(a.version), a.deployedAt, a.functions.join(", ")]);
    ctx.io.out(table(["NAME", "STATE", "VERSION", "DEPLOYED", "FUNCTIONS"], rows));
  },
};

export const appStop: Command = {
  path: "app stop",
  args: "NAME",
  summary: "stop an app: its containers stop and its pending and running inputs are cancelled",
  arity: [1, 1],
  async run(ctx) {
    const [name] = ctx.args;
    const res = await ctx.http().send(ROUTES.stopApp, { params: { app: name } });
    if (ctx.json) {
      ctx.io.out(toJson(res));
      return;
    }
    ctx.io.out(`stopped ${res.appName}: ${res.stoppedContainers} containers stopped, ${res.cancelledInputs} inputs cancelled`);
  },
};

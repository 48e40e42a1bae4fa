import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import type { DeployRequest, DeployResponse } from "../../wire/api.js";
import { bindApp } from "../../binding.js";
import { setProgressListener } from "../../progress.js";
import type { Command, Context } from "../command.js";
import { buildManifest, loadApp } from "../load-app.js";
import { UsageError, toJson } from "../io.js";
import { mapProgress, withStatus } from "../progress-line.js";

/** App names are at most 64 characters; the suffix takes 11. */
const MAX_BASE_LENGTH = 64 - "-run-000000".length;

export const run: Command = {
  path: "run",
  args: "FILE",
  summary: "deploy FILE's app under an ephemeral name, run its local entrypoint here, then remove the app",
  arity: [1, 1],
  async run(ctx) {
    const [file] = ctx.args;
    const { registered, bundle } = await withStatus(ctx.io, `bundling ${file}…`, () => loadApp(file));
    const entrypoint = registered.localEntrypoint;
    if (!entrypoint) throw new UsageError(`app ${registered.name} has no local entrypoint: add app.localEntrypoint(async () => { ... })`);
    const ephemeralName = `${registered.name.slice(0, MAX_BASE_LENGTH)}-run-${randomBytes(3).toString("hex")}`;
    const request: DeployRequest = { manifest: buildManifest(registered, ephemeralName), bundle, ephemeral: true };
    const http = ctx.http();
    const deployed = await withStatus(ctx.io, `deploying ${ephemeralName}…`, () =>
      http.request<DeployResponse>("POST", `/v1/apps/${encodeURIComponent(ephemeralName)}/deployments`, { json: request }),
    );
    // Status goes to stderr: stdout belongs to the entrypoint.
    if (!ctx.json) ctx.io.err(`running ${registered.name} as ephemeral app ${ephemeralName} (${deployed.functions.length} functions)`);

    let removed: Promise<void> | null = null;
    const remove = (): Promise<void> =>
      (removed ??= http.request("DELETE", `/v1/apps/${encodeURIComponent(ephemeralName)}`).then(
        () => undefined,
        (err: unknown) => ctx.io.err(`warning: could not remove ephemeral app ${ephemeralName}: ${(err as Error).message}`),
      ));
    const onInterrupt = (): void => {
      ctx.io.err(`\ninterrupted: removing ephemeral app ${ephemeralName}`);
      void remove().finally(() => process.exit(130));
    };
    process.once("SIGINT", onInterrupt);
    bindApp(registered, { appName: ephemeralName, client: ctx.clientConfig() });
    if (!ctx.json) setProgressListener(mapProgress(ctx.io));
    try {
      await entrypoint();
      if (ctx.json) ctx.io.out(toJson({ appName: registered.name, ephemeralName, ok: true }));
      return 0;
    } catch (err) {
      return reportFailure(ctx, ephemeralName, err);
    } finally {
      setProgressListener(null);
      process.removeListener("SIGINT", onInterrupt);
      await remove();
    }
  },
};

function reportFailure(ctx: Context, ephemeralName: string, err: unknown): number {
  if (ctx.json) {
    const e = err as Error;
    ctx.io.out(toJson({ ephemeralName, ok: false, error: { name: e?.name, message: e?.message, stack: e?.stack } }));
  } else {
    // The user's own error: show all of it (stack, remote cause, properties).
    ctx.io.err(`error: the local entrypoint failed: ${inspect(err, { depth: 4 })}`);
  }
  return 1;
}

import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import type { DeployRequest } from "../../wire/api.js";
import { bindApp } from "../../binding.js";
import { setProgressListener } from "../../progress.js";
import type { Command, Context } from "../command.js";
import { buildManifest, loadApp } from "../load-app.js";
import { UsageError, toJson } from "../io.js";
import { mapProgress, withStatus } from "../progress-line.js";
import { ROUTES } from "../../wire/routes.js";

/** App names are at most 64 characters; the suffix takes 11. */
const MAX_BASE_LENGTH = 64 - "-run-000000".length;

export const run: Command = {
  path: "run",
  args: "FILE",
  summary: "deploy FILE's app under an ephemeral name, run its local entrypoint here, then remove the app (an app with no functions just runs its entrypoint)",
  arity: [1, 1],
  async run(ctx) {
    const [file] = ctx.args;
    const { registered, bundle } = await withStatus(ctx.io, `bundling ${file}…`, () => loadApp(file));
    const entrypoint = registered.localEntrypoint;
    if (!entrypoint) throw new UsageError(`app ${registered.name} has no local entrypoint: add app.localEntrypoint(async () => { ... })`);
    if (registered.functions.size === 0) {
      // A client script (it calls deployed functions by name): nothing to deploy.
      return runEntrypoint(ctx, entrypoint, { appName: registered.name });
    }
    const ephemeralName = `${registered.name.slice(0, MAX_BASE_LENGTH)}-run-${randomBytes(3).toString("hex")}`;
    const request: DeployRequest = { manifest: buildManifest(registered, ephemeralName), bundle, ephemeral: true };
    const http = ctx.http();
    const deployed = await withStatus(ctx.io, `deploying ${ephemeralName}…`, () => http.send(ROUTES.deploy, { params: { app: ephemeralName }, body: request }));
    // Status goes to stderr: stdout belongs to the entrypoint.
    if (!ctx.json) ctx.io.err(`running ${registered.name} as ephemeral app ${ephemeralName} (${deployed.functions.length} functions)`);

    let removed: Promise<void> | null = null;
    const remove = (): Promise<void> =>
      (removed ??= http.send(ROUTES.deleteApp, { params: { app: ephemeralName } }).then(
        () => undefined,
        (err: unknown) => ctx.io.err(`warning: could not remove ephemeral app ${ephemeralName}: ${(err as Error).message}`),
      ));
    const onInterrupt = (): void => {
      ctx.io.err(`\ninterrupted: removing ephemeral app ${ephemeralName}`);
      void remove().finally(() => process.exit(130));
    };
    process.once("SIGINT", onInterrupt);
    bindApp(registered, { appName: ephemeralName, client: ctx.clientConfig() });
    try {
      return await runEntrypoint(ctx, entrypoint, { appName: registered.name, ephemeralName });
    } finally {
      process.removeListener("SIGINT", onInterrupt);
      await remove();
    }
  },
};

/** Runs the entrypoint here, with map progress on stderr; a throw is reported and exits 1. */
async function runEntrypoint(ctx: Context, entrypoint: () => unknown, names: { appName: string; ephemeralName?: string }): Promise<number> {
  // `new Client()` in the entrypoint reaches the platform this command does (--url/--token included).
  const config = ctx.clientConfig();
  const saved = { url: process.env.SQUALL_URL, token: process.env.SQUALL_TOKEN };
  process.env.SQUALL_URL = config.url;
  process.env.SQUALL_TOKEN = config.token;
  if (!ctx.json) setProgressListener(mapProgress(ctx.io));
  try {
    await entrypoint();
    if (ctx.json) ctx.io.out(toJson({ ...names, ok: true }));
    return 0;
  } catch (err) {
    return reportFailure(ctx, names, err);
  } finally {
    setProgressListener(null);
    restoreEnv("SQUALL_URL", saved.url);
    restoreEnv("SQUALL_TOKEN", saved.token);
  }
}

function restoreEnv(key: string, value: string | undefined): void {
  if (value === undefined) delete process.env[key];
  else process.env[key] = value;
}

function reportFailure(ctx: Context, names: { appName: string; ephemeralName?: string }, err: unknown): number {
  if (ctx.json) {
    const e = err as Error;
    ctx.io.out(toJson({ ...names, ok: false, error: { name: e?.name, message: e?.message, stack: e?.stack } }));
  } else {
    // The user's own error: show all of it (stack, remote cause, properties).
    ctx.io.err(`error: the local entrypoint failed: ${inspect(err, { depth: 4 })}`);
  }
  return 1;
}

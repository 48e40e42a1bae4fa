// The container entrypoint: `node sdk/dist/runner/main.js`.
// Env: SQUALL_CONTAINER_ID and SQUALL_CONTAINER_SECRET (required), PORT
// (default 8080), SQUALL_APP (optional, disambiguates the target), and, set
// by the local container host, SQUALL_LISTEN_HOST=127.0.0.1 (default 0.0.0.0)
// and SQUALL_EXIT_WITH_PARENT=1. Everything else
// (SQUALL_URL, SQUALL_TOKEN, …) is left for user code.
import { RUNNER_PORT } from "../wire/protocol.js";
import { captureConsole, runnerLog } from "./console-capture.js";
import { RunnerSession } from "./session.js";
import { startRunnerServer } from "./server.js";

/** The container host kills with SIGKILL 3 s after SIGTERM: finish well before that. */
const SHUTDOWN_DEADLINE_MS = 1_900;
/** How often to check that the parent (the local container host) is still alive; its death must not leave runners behind. */
const PARENT_CHECK_INTERVAL_MS = 1_000;

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    runnerLog(`${name} is not set`);
    process.exit(2);
  }
  return value;
}

async function main(): Promise<void> {
  const containerId = requireEnv("SQUALL_CONTAINER_ID");
  const secret = requireEnv("SQUALL_CONTAINER_SECRET");
  const port = Number(process.env.PORT ?? RUNNER_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    runnerLog(`PORT is not a port number: ${process.env.PORT}`);
    process.exit(2);
  }

  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    runnerLog(`${why}: finishing running inputs, then exiting`);
    setTimeout(() => process.exit(0), SHUTDOWN_DEADLINE_MS).unref();
    server.close();
    void session.drain().finally(() => process.exit(0));
  };

  // Bundles carry inline source maps: user stack traces then name their own files and lines.
  process.setSourceMapsEnabled(true);
  const session = new RunnerSession({ containerId, secret, appName: process.env.SQUALL_APP, onShutdown: () => stop("the pool asked to shut down") });
  captureConsole((line) => session.outbox.addLog(line));
  // One input's forgotten promise must not take down the others running beside it.
  process.on("unhandledRejection", (reason) => console.error("Unhandled promise rejection:", reason));

  const listenHost = process.env.SQUALL_LISTEN_HOST || "0.0.0.0";
  const server = await startRunnerServer({ port, listenHost, containerId, secret, session }).catch((err: NodeJS.ErrnoException) => {
    runnerLog(`cannot listen on port ${port}: ${err.code ?? ""} ${err.message}`);
    process.exit(1);
  });
  runnerLog(`container ${containerId} listening on ${listenHost}:${port}`);

  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  if (process.env.SQUALL_EXIT_WITH_PARENT === "1") {
    const parent = process.ppid;
    setInterval(() => {
      // An orphan is re-parented (to init or a subreaper), so its ppid changes.
      if (process.ppid !== parent) {
        runnerLog("the container host went away: exiting");
        process.exit(1);
      }
    }, PARENT_CHECK_INTERVAL_MS).unref();
  }
}

void main();

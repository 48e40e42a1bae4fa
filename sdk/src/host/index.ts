// The local container host (docs/architecture.md "Compute backends"): runs each
// container as a runner process on 127.0.0.1. Started by `npm run dev` and the
// e2e tests, or on its own with `node sdk/dist/host/main.js`.
import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { ContainerSet } from "./containers.js";
import { createHostServer } from "./server.js";
import { checkLimit, resolveLimits, thisMachine, type HostLimits } from "./limits.js";

export const DEFAULT_HOST_PORT = 8790;

export interface ContainerHostOptions {
  /** Default 8790; 0 picks a free port. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** The compiled runner entry; default the one next to this module (dist/runner/main.js). */
  runnerPath?: string;
  /** Receives runner output, one line at a time; default stdout. */
  log?: (line: string) => void;
  /** Containers running or starting at once; default $SQUALL_LOCAL_MAX_CONTAINERS, else from the machine's cores and memory. */
  maxContainers?: number;
  /** Starts in progress at once; default $SQUALL_LOCAL_MAX_STARTS, else 4 per core. */
  maxStarts?: number;
}

export interface ContainerHost {
  /** e.g. http://127.0.0.1:8790 */
  url: string;
  /** The limits in effect. */
  limits: HostLimits;
  /** Stops every container, then the server. */
  close(): Promise<void>;
}

export async function startContainerHost(options: ContainerHostOptions = {}): Promise<ContainerHost> {
  const runnerPath = options.runnerPath ?? fileURLToPath(new URL("../runner/main.js", import.meta.url));
  if (!existsSync(runnerPath)) throw new Error(`the runner is not at ${runnerPath}: build the squall package first (npm run build -w sdk)`);
  const host = options.host ?? "127.0.0.1";
  checkLimit("maxContainers", options.maxContainers);
  checkLimit("maxStarts", options.maxStarts);
  const limits = resolveLimits(options, process.env, thisMachine());
  const containers = new ContainerSet({ runnerPath, log: options.log ?? ((line) => process.stdout.write(line + "\n")), ...limits });
  const server = createHostServer(containers);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? DEFAULT_HOST_PORT, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | null = null;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    limits,
    close: () =>
      (closed ??= (async () => {
        await containers.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })()),
  };
}

export { defaultLimits, type HostLimits } from "./limits.js";
export type { HostedContainer, StartContainerRequest, ListContainersResponse } from "../wire/host.js";

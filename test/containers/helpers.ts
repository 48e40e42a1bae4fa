import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { inject } from "vitest";

const execFileAsync = promisify(execFile);

export const skipped = inject("containersSkipped");

export { client, deploy, platformEnv, squall } from "../fixtures/platform";

export interface RunnerContainer {
  id: string;
  /**
   * The id of the container whose network (and so hostname) this one uses:
   * workerd runs each container in the network of its sidecar, so
   * `os.hostname()` inside the runner is the sidecar's short id.
   */
  networkOwnerId: string;
}

/** The runner containers Docker runs for the platform (not their `-proxy` sidecars). */
export async function runnerContainers(): Promise<RunnerContainer[]> {
  const ids = (await docker(["ps", "-q", "--no-trunc", "--filter", "name=^/workerd-squall-Runner-"])).split("\n").filter(Boolean);
  if (ids.length === 0) return [];
  // A container may be gone between the two commands: inspect what is still there.
  const inspected = await execFileAsync("docker", ["inspect", "--format", "{{.Id}} {{.Name}} {{.HostConfig.NetworkMode}}", ...ids]).catch(
    (err: { stdout?: string }) => ({ stdout: err.stdout ?? "" }),
  );
  return inspected.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split(" "))
    .filter(([, name]) => !name.endsWith("-proxy"))
    .map(([id, , networkMode]) => ({ id, networkOwnerId: networkMode.replace(/^container:/, "") }));
}

/** Whether `hostname` (as a function saw it) is that of `container`. */
export function ranOn(hostname: string, container: RunnerContainer): boolean {
  return container.networkOwnerId.startsWith(hostname);
}

export async function docker(args: string[]): Promise<string> {
  return (await execFileAsync("docker", args)).stdout;
}

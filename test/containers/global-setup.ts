// One platform with real containers for test/containers: wrangler dev with
// the production compute backend (the Runner container class) on the local
// Docker engine, set up as `npm run setup:containers` does. Where Docker
// cannot run, the suite fails with the reason; only SQUALL_SKIP_CONTAINERS=1
// skips it, and says so loudly.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startLocalPlatform, freePort, type LocalPlatform } from "../../scripts/platform";
import { setUpContainers } from "../../scripts/containers/setup";

declare module "vitest" {
  export interface ProvidedContext {
    containersSkipped: boolean;
    squallUrl: string;
    squallToken: string;
    squallConfigPath: string;
  }
}

let platform: LocalPlatform | null = null;
let dir = "";

export async function setup(project: TestProject): Promise<void> {
  if (process.env.SQUALL_SKIP_CONTAINERS === "1") {
    const line = "!".repeat(78);
    console.warn(
      `\n${line}\n!! SQUALL_SKIP_CONTAINERS=1: the real-container suite (test/containers) is SKIPPED.\n!! Nothing here proves the production compute backend works.\n${line}\n`,
    );
    project.provide("containersSkipped", true);
    return;
  }
  try {
    await setUpContainers();
  } catch (err) {
    throw new Error(
      `test/containers needs a Docker engine and could not get one: ${(err as Error).message}\n` +
        "Run `npm run setup:containers` to see what is missing; set SQUALL_SKIP_CONTAINERS=1 only to skip this suite on purpose.",
    );
  }
  dir = mkdtempSync(join(tmpdir(), "squall-containers-"));
  platform = await startLocalPlatform({
    port: await freePort(),
    persistTo: join(dir, "state"),
    compute: "containers",
    verbose: process.env.SQUALL_VERBOSE === "1",
  });
  const token = await platform.createWorkspace("containers");
  const configPath = join(dir, "squall.toml");
  writeFileSync(configPath, `[containers]\nurl = "${platform.url}"\ntoken = "${token}"\nactive = true\n`);
  project.provide("containersSkipped", false);
  project.provide("squallUrl", platform.url);
  project.provide("squallToken", token);
  project.provide("squallConfigPath", configPath);
}

export async function teardown(): Promise<void> {
  await platform?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}

// One real local platform for the end-to-end suite: wrangler dev (Miniflare
// D1 / DOs / Queues / R2), the container host and runner processes, on a
// free port with its own state and its own client config.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startLocalPlatform, freePort, type LocalPlatform } from "../../scripts/platform";

declare module "vitest" {
  export interface ProvidedContext {
    squallUrl: string;
    squallToken: string;
    squallHostUrl: string;
    squallAdminSecret: string;
    squallConfigPath: string;
  }
}

let platform: LocalPlatform | null = null;
let dir = "";

export async function setup(project: TestProject): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), "squall-e2e-"));
  platform = await startLocalPlatform({
    port: await freePort(),
    persistTo: join(dir, "state"),
    verbose: process.env.SQUALL_VERBOSE === "1",
  });
  const token = await platform.createWorkspace("e2e");
  const configPath = join(dir, "squall.toml");
  writeFileSync(configPath, `[e2e]\nurl = "${platform.url}"\ntoken = "${token}"\nactive = true\n`);
  project.provide("squallUrl", platform.url);
  project.provide("squallToken", token);
  if (!platform.hostUrl) throw new Error('the e2e suite needs the local container host (compute "local")');
  project.provide("squallHostUrl", platform.hostUrl);
  project.provide("squallAdminSecret", platform.adminSecret);
  project.provide("squallConfigPath", configPath);
}

export async function teardown(): Promise<void> {
  await platform?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}

// One real local platform for the browser tests, on a free port with its
// own state, and a workspace to sign in to.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startLocalPlatform, freePort, type LocalPlatform } from "../../scripts/platform";
import { CHROMIUM } from "./browser";

declare module "vitest" {
  export interface ProvidedContext {
    dashboardUrl: string;
    dashboardToken: string;
  }
}

let platform: LocalPlatform | null = null;
let dir = "";

export async function setup(project: TestProject): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`the browser tests need Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  dir = mkdtempSync(join(tmpdir(), "squall-browser-"));
  platform = await startLocalPlatform({ port: await freePort(), persistTo: join(dir, "state"), verbose: process.env.SQUALL_VERBOSE === "1" });
  project.provide("dashboardUrl", platform.url);
  project.provide("dashboardToken", await platform.createWorkspace("browser"));
}

export async function teardown(): Promise<void> {
  await platform?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}

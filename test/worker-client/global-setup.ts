// The real local platform for the workerd client tests: wrangler dev, the
// container host and runner processes, with the example Worker's app deployed.
// Tests in workerd get its URL and a token through inject(); the SQUALL
// service binding (a function in vitest.config.ts, run here in Node) reads the
// URL from the environment this sets.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { TestProject } from "vitest/node";
import { startLocalPlatform, freePort, ROOT, type LocalPlatform } from "../../scripts/platform";

declare module "vitest" {
  export interface ProvidedContext {
    squallUrl: string;
    squallToken: string;
  }
}

const PLATFORM_URL_ENV = "SQUALL_WORKER_CLIENT_PLATFORM_URL";

let platform: LocalPlatform | null = null;
let dir = "";

export async function setup(project: TestProject): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), "squall-worker-client-"));
  platform = await startLocalPlatform({ port: await freePort(), persistTo: join(dir, "state"), verbose: process.env.SQUALL_VERBOSE === "1" });
  const token = await platform.createWorkspace("worker-client");
  await deploy("examples/worker-client/app.ts", { ...process.env, SQUALL_URL: platform.url, SQUALL_TOKEN: token });
  process.env[PLATFORM_URL_ENV] = platform.url;
  project.provide("squallUrl", platform.url);
  project.provide("squallToken", token);
}

export async function teardown(): Promise<void> {
  await platform?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}

function deploy(file: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((done, fail) => {
    execFile(process.execPath, [resolve(ROOT, "sdk/bin/squall.js"), "deploy", file], { cwd: ROOT, env }, (err, stdout, stderr) => {
      if (err) fail(new Error(`squall deploy ${file} failed: ${stderr}${stdout}`));
      else done();
    });
  });
}

import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { inject } from "vitest";
import { Client } from "../../sdk/src/index";

export { eventually, sleep, until } from "../fixtures/wait";

export const ROOT = resolve(import.meta.dirname, "../..");
const CLI = resolve(ROOT, "sdk/bin/squall.js");

export function platformEnv(): NodeJS.ProcessEnv {
  return { ...process.env, SQUALL_URL: inject("squallUrl"), SQUALL_TOKEN: inject("squallToken"), SQUALL_CONFIG_PATH: inject("squallConfigPath") };
}

/** An SDK client of the test platform. */
export const client = (): Client => new Client({ url: inject("squallUrl"), token: inject("squallToken") });

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `squall` CLI against the test platform. */
export function squall(args: string[], env: NodeJS.ProcessEnv = platformEnv()): Promise<CliResult> {
  return new Promise((resolveRun) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** Runs a plain Node ESM script (as a user's program would be) against the test platform. */
export function node(script: string, env: NodeJS.ProcessEnv = platformEnv()): Promise<CliResult> {
  return new Promise((resolveRun) => {
    execFile(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT, env }, (err, stdout, stderr) => {
      resolveRun({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

export async function deploy(file: string): Promise<void> {
  const r = await squall(["deploy", file]);
  if (r.code !== 0) throw new Error(`deploy ${file} failed: ${r.stderr}${r.stdout}`);
}


// Issue "See it work": progress while `squall run` maps and `squall deploy`
// uploads, `squall logs` (and --follow) with every line tagged, and
// `squall function stats` as a table.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { describe, it, expect, beforeAll } from "vitest";
import { ROOT, client, eventually, platformEnv, squall } from "./helpers";

describe("progress", () => {
  it("squall run reports a map's done/total and rate as plain lines when stderr is not a terminal", async () => {
    const r = await squall(["run", "test/e2e/apps/chatty.ts"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("shouted 30 words");
    expect(r.stderr).toMatch(/^shout\.map\(\) 30\/30 in \d+\.\d s \(\d+(\.\d)?\/s\)$/m);
    // No terminal, no redrawing: nothing but whole lines.
    // eslint-disable-next-line no-control-regex -- the escape character is what must not appear
    expect(r.stderr).not.toMatch(/[\r\x1b]/);
  });
});

describe("logs and stats", () => {
  beforeAll(async () => {
    const r = await squall(["deploy", "test/e2e/apps/chatty.ts"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("deployed chatty");
    expect(r.stderr).toBe("");
  });

  it("squall logs prints the containers' output, each line with its function, container and call", async () => {
    const shout = await client().functions.fromName<[string], string>("chatty", "shout");
    const call = await shout.spawn("hello");
    expect(await call.get({ timeoutMs: 60_000 })).toBe("HELLO");
    const shortCall = `fc-…${call.id.slice(-8)}`;
    const line = await eventually("the logged line", async () => {
      const r = await squall(["logs", "chatty", "shout"]);
      expect(r.code).toBe(0);
      return r.stdout.split("\n").find((l) => l.endsWith("shouting hello"));
    });
    expect(line).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z shout ct-[0-9a-f]{20} ${shortCall} shouting hello$`));

    const json = await squall(["logs", "chatty", "--json"]);
    const entries = json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { function: string; callId: string; containerId: string; text: string });
    expect(entries.find((e) => e.text === "shouting hello")).toMatchObject({ function: "shout", callId: call.id, containerId: expect.stringMatching(/^ct-/) });
  });

  it("squall logs --follow prints new lines as they come", async () => {
    const child = spawn(process.execPath, [resolve(ROOT, "sdk/bin/squall.js"), "logs", "chatty", "--follow"], { cwd: ROOT, env: platformEnv() });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    try {
      const shout = await client().functions.fromName<[string], string>("chatty", "shout");
      expect(await shout.remote("followed")).toBe("FOLLOWED");
      await eventually("the followed line", async () => (/ shout ct-[0-9a-f]{20} fc-…[0-9a-f]{8} shouting followed$/m.test(out) ? true : undefined));
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("squall function stats shows a table with each autoscaler setting's source, and --json the stats", async () => {
    expect((await squall(["function", "update-autoscaler", "chatty", "shout", "--buffer-containers", "1"])).code).toBe(0);
    const r = await squall(["function", "stats", "chatty", "shout"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^BACKLOG\s+RUNNING\s+STARTING\s+IDLE\s+BUSY\s+CONTAINERS$/m);
    expect(r.stdout).toMatch(/^AUTOSCALER\s+VALUE\s+SOURCE$/m);
    expect(r.stdout).toMatch(/^maxContainers\s+2\s+declared$/m);
    expect(r.stdout).toMatch(/^bufferContainers\s+1\s+override$/m);
    const json = JSON.parse((await squall(["function", "stats", "chatty", "shout", "--json"])).stdout) as { autoscaler: { bufferContainers: number } };
    expect(json.autoscaler.bufferContainers).toBe(1);
  });
});

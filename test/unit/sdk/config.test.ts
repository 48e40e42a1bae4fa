import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readConfig, resolveClientConfig, writeProfile } from "../../../sdk/src/config";
import { Client } from "../../../sdk/src/client";
import { AuthError } from "../../../sdk/src/errors";

const ENV_KEYS = ["SQUALL_URL", "SQUALL_TOKEN", "SQUALL_CONFIG_PATH", "SQUALL_PROFILE"] as const;
let saved: Record<string, string | undefined>;
let dir: string;

beforeEach(() => {
  saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) delete process.env[k];
  dir = mkdtempSync(join(tmpdir(), "squall-config-"));
  process.env.SQUALL_CONFIG_PATH = join(dir, "squall.toml");
});

afterEach(() => {
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  rmSync(dir, { recursive: true, force: true });
});

function writeToml(text: string): void {
  writeFileSync(process.env.SQUALL_CONFIG_PATH!, text);
}

describe("client config", () => {
  it("reads the active profile from SQUALL_CONFIG_PATH", () => {
    writeToml(`[local]\nurl = "http://127.0.0.1:8787"\ntoken = "sq_local"\n\n[prod]\nurl = "https://squall.example.com/"\ntoken = "sq_prod"\nactive = true\n`);
    expect(resolveClientConfig()).toEqual({ url: "https://squall.example.com", token: "sq_prod" });
    expect(new Client().url).toBe("https://squall.example.com");
  });

  it("uses the only profile when none is marked active, and SQUALL_PROFILE picks one by name", () => {
    writeToml(`[local]\nurl = "http://127.0.0.1:8787"\ntoken = "sq_local"\n`);
    expect(resolveClientConfig().token).toBe("sq_local");
    writeToml(`[a]\nurl = "http://a"\ntoken = "ta"\nactive = true\n[b]\nurl = "http://b"\ntoken = "tb"\n`);
    process.env.SQUALL_PROFILE = "b";
    expect(resolveClientConfig()).toEqual({ url: "http://b", token: "tb" });
  });

  it("prefers env vars over the profile, and explicit options over both", () => {
    writeToml(`[local]\nurl = "http://profile"\ntoken = "sq_profile"\nactive = true\n`);
    process.env.SQUALL_URL = "http://env";
    expect(resolveClientConfig()).toEqual({ url: "http://env", token: "sq_profile" });
    process.env.SQUALL_TOKEN = "sq_env";
    expect(resolveClientConfig()).toEqual({ url: "http://env", token: "sq_env" });
    expect(resolveClientConfig({ url: "http://option", token: "sq_option" })).toEqual({ url: "http://option", token: "sq_option" });
  });

  it("raises AuthError saying how to configure when there is no config at all", () => {
    expect(() => new Client()).toThrow(AuthError);
    expect(() => new Client()).toThrow(/SQUALL_URL and SQUALL_TOKEN.*npm run dev/);
  });

  it("raises AuthError for several profiles with none active, or an unknown SQUALL_PROFILE", () => {
    writeToml(`[a]\nurl = "http://a"\ntoken = "ta"\n[b]\nurl = "http://b"\ntoken = "tb"\n`);
    expect(() => resolveClientConfig()).toThrow(/none is active/);
    process.env.SQUALL_PROFILE = "c";
    expect(() => resolveClientConfig()).toThrow(AuthError);
  });

  it("writeProfile adds a profile, activates it alone, and keeps the file private", () => {
    writeToml(`[prod]\nurl = "https://p"\ntoken = "sq_p"\nactive = true\n`);
    writeProfile("local", { url: "http://127.0.0.1:8787", token: "sq_l" }, { activate: true });
    const config = readConfig();
    expect(config.profiles.local).toEqual({ url: "http://127.0.0.1:8787", token: "sq_l", active: true });
    expect(config.profiles.prod).toEqual({ url: "https://p", token: "sq_p" });
    expect(resolveClientConfig().token).toBe("sq_l");
    expect(statSync(process.env.SQUALL_CONFIG_PATH!).mode & 0o777).toBe(0o600);
    expect(readFileSync(process.env.SQUALL_CONFIG_PATH!, "utf8")).toContain("[local]");
  });
});

// Where a client finds the platform and its token: explicit options, then
// SQUALL_URL / SQUALL_TOKEN, then a profile of ~/.squall.toml (README "Configuring a client").
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { parse, stringify } from "smol-toml";
import { AuthError, InvalidError } from "./errors.js";
import { setConnectionDefaults } from "./connection.js";

export interface Profile {
  url: string;
  token: string;
  active?: boolean;
}

export interface SquallConfig {
  /** The file the profiles were read from (it may not exist yet). */
  path: string;
  profiles: Record<string, Profile>;
}

export interface ClientConfig {
  url: string;
  token: string;
}

const HOW_TO_CONFIGURE = "set SQUALL_URL and SQUALL_TOKEN, or run `npm run dev` to start the local platform and write the active profile to ~/.squall.toml";

function configPath(): string {
  return process.env.SQUALL_CONFIG_PATH || join(homedir(), ".squall.toml");
}

/** Reads every profile; a missing file is an empty config. */
export function readConfig(path: string = configPath()): SquallConfig {
  if (!existsSync(path)) return { path, profiles: {} };
  let raw: Record<string, unknown>;
  try {
    raw = parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new InvalidError(`${path} is not valid TOML: ${(err as Error).message}`);
  }
  const profiles: Record<string, Profile> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) continue;
    const p = value as Record<string, unknown>;
    if (typeof p.url !== "string" || typeof p.token !== "string") {
      throw new InvalidError(`${path}: profile [${name}] needs a url and a token (strings)`);
    }
    profiles[name] = { url: p.url, token: p.token, ...(p.active === true ? { active: true } : {}) };
  }
  return { path, profiles };
}

/** Adds or replaces a profile; with `activate`, it becomes the only active one. */
export function writeProfile(name: string, profile: ClientConfig, options: { activate?: boolean } = {}, path: string = configPath()): void {
  const config = readConfig(path);
  const keepActive = config.profiles[name]?.active === true;
  const profiles: Record<string, Profile> = {
    ...config.profiles,
    [name]: { url: profile.url, token: profile.token, ...(keepActive ? { active: true } : {}) },
  };
  if (options.activate) {
    for (const [n, p] of Object.entries(profiles)) profiles[n] = { url: p.url, token: p.token, ...(n === name ? { active: true } : {}) };
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, stringify(profiles) + "\n");
  // The file holds tokens: readable by its owner only (writeFileSync's mode applies only to new files).
  chmodSync(path, 0o600);
}

/** Picks SQUALL_PROFILE, else the profile marked active, else the only one. */
function activeProfile(config: SquallConfig): { name: string; profile: Profile } | null {
  const names = Object.keys(config.profiles);
  const wanted = process.env.SQUALL_PROFILE;
  if (wanted) {
    const profile = config.profiles[wanted];
    if (!profile) {
      throw new AuthError(`SQUALL_PROFILE is "${wanted}", but ${config.path} has no such profile (it has: ${names.join(", ") || "none"})`);
    }
    return { name: wanted, profile };
  }
  const active = names.filter((n) => config.profiles[n].active);
  if (active.length > 1) throw new AuthError(`${config.path} marks several profiles active (${active.join(", ")}); keep one, or set SQUALL_PROFILE`);
  if (active.length === 1) return { name: active[0], profile: config.profiles[active[0]] };
  if (names.length === 1) return { name: names[0], profile: config.profiles[names[0]] };
  if (names.length > 1)
    throw new AuthError(`${config.path} has several profiles (${names.join(", ")}) and none is active; set SQUALL_PROFILE or mark one with active = true`);
  return null;
}

/** Resolves each field on its own: explicit option, then environment, then the profile. */
export function resolveClientConfig(options: Partial<ClientConfig> = {}): ClientConfig {
  let url = options.url || process.env.SQUALL_URL;
  let token = options.token || process.env.SQUALL_TOKEN;
  if (!url || !token) {
    const found = activeProfile(readConfig());
    url ||= found?.profile.url;
    token ||= found?.profile.token;
  }
  if (!url && !token) throw new AuthError(`no Squall platform configured: ${HOW_TO_CONFIGURE}`);
  if (!url) throw new AuthError(`a token is configured but no URL: ${HOW_TO_CONFIGURE}`);
  if (!token) throw new AuthError(`no token configured for ${url}: ${HOW_TO_CONFIGURE}`);
  return { url: url.replace(/\/+$/, ""), token };
}

// Loading this module (the `squall` entry and the CLI do) lets a Client in Node
// find its URL and token here; the Worker-safe `squall/client` entry never loads it.
setConnectionDefaults(resolveClientConfig);

// Makes sure the active profile points at the local platform with a working token.
import type { LocalPlatform } from "./platform";
import { readConfig, writeProfile } from "../sdk/src/config";

const PROFILE = "local";

export async function ensureProfile(platform: LocalPlatform): Promise<string> {
  const existing = readConfig().profiles?.[PROFILE];
  if (existing?.url === platform.url && existing.token) {
    const res = await fetch(`${platform.url}/v1/apps`, { headers: { authorization: `Bearer ${existing.token}` } });
    if (res.ok) {
      writeProfile(PROFILE, { url: platform.url, token: existing.token }, { activate: true });
      return existing.token;
    }
  }
  const token = await platform.createWorkspace("local");
  writeProfile(PROFILE, { url: platform.url, token }, { activate: true });
  return token;
}

// `npm run dev`: the whole platform locally, a workspace token, and the
// active profile in ~/.squall.toml so `npx squall` and `new Client()` just work.
import { startLocalPlatform, type LocalPlatform } from "./platform";
import { ensureProfile } from "./profile";

export async function startDev(options: { quiet?: boolean } = {}): Promise<{ platform: LocalPlatform; token: string }> {
  const platform = await startLocalPlatform({ verbose: process.env.SQUALL_VERBOSE === "1" });
  const token = await ensureProfile(platform);
  if (!options.quiet) {
    console.log(`
  Squall is running locally.

  URL        ${platform.url}
  Token      ${token}
  Dashboard  ${platform.url}/
  Profile    "local" (active) in ${process.env.SQUALL_CONFIG_PATH ?? "~/.squall.toml"}

  Try:  npx squall deploy examples/hello.ts
        node examples/client.mjs
`);
  }
  return { platform, token };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { platform } = await startDev();
  const stop = async (): Promise<void> => {
    console.log("stopping…");
    await platform.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  console.log("  Press Ctrl-C to stop.");
}

// The first step of `npm test`: installs what the suites need when it is
// missing, idempotently, so the README's test command is all a newcomer runs.
// - Debian's Chromium for the browser suite (playwright-core downloads no browser);
// - the Docker engine, the local images and the runner bundle for
//   test/containers (scripts/containers/setup.ts), unless
//   SQUALL_SKIP_CONTAINERS=1 says to skip that suite.
// Installing needs root and apt (as on CI and these machines); elsewhere it
// says what to install instead.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { CHROMIUM } from "../test/browser/browser";
import { ContainerSetupError } from "./containers/engine";
import { setUpContainers } from "./containers/setup";

function installChromium(): void {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0 || !existsSync("/usr/bin/apt-get")) {
    throw new Error(`the browser tests need Chromium at ${CHROMIUM}; install it (on Debian: apt-get install chromium) and run npm test again`);
  }
  console.log("[setup] installing Chromium (Debian's chromium) for the browser tests…");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update"], { stdio: "ignore", env });
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "chromium"], { stdio: "ignore", env });
}

installChromium();
if (process.env.SQUALL_SKIP_CONTAINERS === "1") {
  console.warn("[setup] SQUALL_SKIP_CONTAINERS=1: not setting up Docker; the real-container suite will be SKIPPED");
} else {
  try {
    await setUpContainers();
  } catch (err) {
    if (!(err instanceof ContainerSetupError)) throw err;
    console.error(`[setup] the real-container suite needs Docker: ${err.message}\n[setup] set SQUALL_SKIP_CONTAINERS=1 to skip that suite on purpose`);
    process.exit(1);
  }
}

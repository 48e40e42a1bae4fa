// `npm run deploy`: apply D1 migrations to the remote database, then deploy
// the Worker (wrangler builds and pushes the runner image from Dockerfile,
// which copies the runner bundle made here first).
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./platform";
import { bundleRunner } from "./containers/bundle-runner";

const wrangler = join(ROOT, "node_modules", ".bin", "wrangler");
const run = (args: string[]): void => {
  execFileSync(wrangler, args, { cwd: ROOT, stdio: "inherit" });
};

await bundleRunner();
run(["d1", "migrations", "apply", "squall", "--remote"]);
run(["deploy"]);

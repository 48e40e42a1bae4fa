// `npm run setup:containers`: everything `npm run dev -- --containers` and
// test/containers need, idempotently: the Docker engine (Debian's docker.io,
// installed and started if missing), the base image made offline, the egress
// sidecar stand-in, and the runner bundle the Dockerfile copies. See
// scripts/containers/shims/README.md.
import { bundleRunner } from "./bundle-runner";
import { ContainerSetupError, ensureContainerTooling } from "./engine";

export async function setUpContainers(): Promise<{ gateway: string }> {
  const result = await ensureContainerTooling();
  await bundleRunner();
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const { gateway } = await setUpContainers();
    console.log(`Local containers are ready (Docker bridge gateway ${gateway}). Start the platform with: npm run dev -- --containers`);
  } catch (err) {
    if (!(err instanceof ContainerSetupError)) throw err;
    console.error(`npm run setup:containers: ${err.message}`);
    process.exit(1);
  }
}

// The Docker engine that local Cloudflare Containers run on (`npm run dev --
// --containers`, test/containers): finding it, starting Debian's docker.io
// when it is installed but not running, and the images and shims wrangler
// needs offline. See scripts/containers/shims/README.md for what each shim
// stands in for.
import { execFile, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, copyFileSync, chmodSync, chownSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "../platform";

const execFileAsync = promisify(execFile);

export const SHIMS_DIR = join(ROOT, "scripts", "containers", "shims");
/** wrangler calls this instead of `docker` (WRANGLER_DOCKER_BIN). */
export const DOCKER_SHIM = join(SHIMS_DIR, "docker");
/** The stand-in for Cloudflare's egress sidecar; the tag changes whenever its files do. */
export const EGRESS_IMAGE = "squall-local/egress-proxy:1";
/** What the Dockerfile builds FROM; made locally when it cannot be pulled. */
export const BASE_IMAGE = "node:20-slim";
/** Marks images this project made, so they are never mistaken for pulled ones. */
const STAND_IN_LABEL = "dev.squall.stand-in=true";
/** Where a dockerd this project started keeps its log and pid. */
const ENGINE_DIR = join(ROOT, ".squall", "docker");
/** The engine answers within a second or two of starting; a cold machine may take longer. */
const ENGINE_START_TIMEOUT_MS = 30_000;
/**
 * The flags that work on these machines: no iptables (no NAT, so containers
 * reach only the host, through the bridge gateway), the default bridge on a
 * fixed subnet (wrangler reads the `bridge` network's gateway), published
 * ports on loopback only.
 */
const DOCKERD_ARGS = ["--iptables=false", "--ip6tables=false", "--bip=172.17.0.1/16", "--ip=127.0.0.1", "--storage-driver=overlay2"];

export class ContainerSetupError extends Error {
  override name = "ContainerSetupError";
}

function log(line: string): void {
  console.log(`[containers] ${line}`);
}

/** Whether a Docker engine answers. */
export async function engineReady(): Promise<boolean> {
  try {
    await execFileAsync("docker", ["info", "--format", "{{.ServerVersion}}"], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

function which(command: string): string | null {
  try {
    return execFileSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

/** Installs Debian's docker.io when no engine is installed (root and apt only). */
function installEngine(): void {
  if (which("dockerd")) return;
  if (process.getuid?.() !== 0 || !which("apt-get")) {
    throw new ContainerSetupError("no Docker engine is installed: install Docker (on Debian: `apt-get install docker.io`) and run this again");
  }
  log("installing the Docker engine (Debian's docker.io)…");
  execFileSync("apt-get", ["update"], { stdio: "ignore" });
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "docker.io"], {
    stdio: "ignore",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

/** Starts dockerd in the background when it is installed but not running; it outlives this process, like a system service. */
async function startEngine(): Promise<void> {
  mkdirSync(ENGINE_DIR, { recursive: true });
  const logFile = join(ENGINE_DIR, "dockerd.log");
  log(`starting dockerd (log: ${logFile})…`);
  const out = openSync(logFile, "a");
  const child = spawn(which("dockerd") ?? "dockerd", DOCKERD_ARGS, { detached: true, stdio: ["ignore", out, out] });
  child.unref();
  writeFileSync(join(ENGINE_DIR, "dockerd.pid"), String(child.pid));
  const deadline = Date.now() + ENGINE_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await engineReady()) return;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  const tail = readFileSync(logFile, "utf8").split("\n").slice(-15).join("\n");
  throw new ContainerSetupError(`dockerd did not start within ${ENGINE_START_TIMEOUT_MS / 1000} s:\n${tail}`);
}

/** An engine that answers, installed and started if needed. */
export async function ensureEngine(): Promise<void> {
  if (await engineReady()) return;
  installEngine();
  await startEngine();
}

/** The address containers reach the host at: the default bridge's gateway. */
export function bridgeGateway(): string {
  let gateway = "";
  try {
    gateway = execFileSync("docker", ["network", "inspect", "bridge", "--format", "{{range .IPAM.Config}}{{.Gateway}}{{end}}"], { encoding: "utf8" }).trim();
  } catch {
    // reported below
  }
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(gateway)) {
    throw new ContainerSetupError(
      "the Docker engine has no `bridge` network with a gateway; local containers need one (start dockerd with --bip, as npm run setup:containers does)",
    );
  }
  return gateway;
}

function imageExists(image: string): boolean {
  try {
    execFileSync("docker", ["image", "inspect", image], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** The libraries a binary loads, as `ldd` lists them (absolute paths). */
function sharedLibraries(binary: string): string[] {
  const out = execFileSync("ldd", [binary], { encoding: "utf8" });
  return [...out.matchAll(/(\/[^\s]+)\s+\(0x/g)].map((m) => m[1]);
}

/**
 * A stand-in for node:20-slim, which cannot be pulled here: this machine's
 * own node binary (Node 20) with the libraries it loads, a `node` user (uid
 * 1000, as the Dockerfile's `USER node` expects) and the host's CA bundle,
 * imported as an image. Made only when no node:20-slim exists.
 */
function buildBaseImage(): void {
  const node = process.execPath;
  const major = Number(process.versions.node.split(".")[0]);
  if (major !== 20)
    throw new ContainerSetupError(`the local base image is made from this machine's node, which is ${process.version}; the runner image needs Node 20`);
  log(`making ${BASE_IMAGE} from this machine's node ${process.version} (no registry is reachable)…`);
  const root = mkdtempSync(join(tmpdir(), "squall-rootfs-"));
  try {
    const put = (from: string, to: string): void => {
      mkdirSync(dirname(join(root, to)), { recursive: true });
      copyFileSync(from, join(root, to));
    };
    put(node, "usr/local/bin/node");
    chmodSync(join(root, "usr/local/bin/node"), 0o755);
    for (const lib of sharedLibraries(node)) put(lib, lib);
    if (existsSync("/etc/ssl/certs/ca-certificates.crt")) put("/etc/ssl/certs/ca-certificates.crt", "etc/ssl/certs/ca-certificates.crt");
    mkdirSync(join(root, "etc"), { recursive: true });
    writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/sbin/nologin\nnode:x:1000:1000::/home/node:/sbin/nologin\n");
    writeFileSync(join(root, "etc/group"), "root:x:0:\nnode:x:1000:\n");
    mkdirSync(join(root, "tmp"), { mode: 0o1777 });
    chmodSync(join(root, "tmp"), 0o1777);
    mkdirSync(join(root, "home/node"), { recursive: true });
    chownSync(join(root, "home/node"), 1000, 1000);
    const changes = ["ENV PATH=/usr/local/bin:/usr/bin:/bin", `LABEL ${STAND_IN_LABEL}`, 'CMD ["node"]'].map((c) => `--change '${c}'`).join(" ");
    execFileSync("sh", ["-c", `tar -C '${root}' -c . | docker import ${changes} - ${BASE_IMAGE}`], { stdio: ["ignore", "ignore", "inherit"] });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The egress sidecar stand-in (shims/egress-proxy), built from the base image. */
function buildEgressImage(): void {
  log(`building ${EGRESS_IMAGE}…`);
  execFileSync("docker", ["build", "-q", "--label", STAND_IN_LABEL, "-t", EGRESS_IMAGE, join(SHIMS_DIR, "egress-proxy")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
}

/** Whether the images local containers need are in the engine. */
export function imagesReady(): boolean {
  return imageExists(BASE_IMAGE) && imageExists(EGRESS_IMAGE);
}

/** Everything local containers need: engine, base image, egress stand-in. Idempotent. */
export async function ensureContainerTooling(): Promise<{ gateway: string }> {
  await ensureEngine();
  const gateway = bridgeGateway();
  if (!imageExists(BASE_IMAGE)) buildBaseImage();
  if (!imageExists(EGRESS_IMAGE)) buildEgressImage();
  chmodSync(DOCKER_SHIM, 0o755);
  return { gateway };
}

/** Removes containers whose names start with `prefix` (what workerd leaves behind: its `-proxy` sidecars always, everything after a crash). */
export async function removeContainers(prefix: string): Promise<number> {
  let ids: string[] = [];
  try {
    const { stdout } = await execFileAsync("docker", ["ps", "-aq", "--filter", `name=^/${prefix}`]);
    ids = stdout.split("\n").filter(Boolean);
  } catch {
    return 0;
  }
  if (ids.length > 0) await execFileAsync("docker", ["rm", "-f", ...ids]).catch(() => undefined);
  return ids.length;
}

// `node scripts/local-worker.mjs --port P --entry-port E --inspector-port I --options FILE [--verbose]`
//
// Runs the platform Worker under Miniflare directly (scripts/platform.ts,
// "local" compute): the same workerd, bindings and on-disk state as
// `wrangler dev`, without wrangler's proxy Worker in front, which cost every
// request ~1 ms locally. Port P is a socket straight to the platform Worker:
// Miniflare's entry Worker (pretty error pages, live reload, request logs)
// is one more Worker hop, ~0.3 ms per request here. Its port E serves only
// /cdn-cgi/handler/scheduled, for the cron ticker. FILE holds the Miniflare
// options platform.ts derived from wrangler.toml. Started under scripts/process-tether.mjs like wrangler,
// so it and workerd end with the process that started them.
//
// Plain JavaScript, so it runs on bare node without the TypeScript loader.
import { readFileSync } from "node:fs";
import { Log, LogLevel, Miniflare } from "miniflare";

function arg(name) {
  const at = process.argv.indexOf(name);
  if (at < 0 || at === process.argv.length - 1) {
    process.stderr.write(`local-worker: ${name} is required\n`);
    process.exit(2);
  }
  return process.argv[at + 1];
}

const options = JSON.parse(readFileSync(arg("--options"), "utf8"));
const verbose = process.argv.includes("--verbose");
const mf = new Miniflare({
  ...options,
  port: Number(arg("--entry-port")),
  unsafeDirectSockets: [{ host: options.host, port: Number(arg("--port")) }],
  inspectorPort: Number(arg("--inspector-port")),
  log: new Log(verbose ? LogLevel.INFO : LogLevel.WARN),
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  try {
    await mf.dispose();
  } finally {
    process.exit(0);
  }
}
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.once(signal, () => void stop());

await mf.ready;
process.stdout.write(`local-worker: ready on ${options.host}:${arg("--port")}\n`);

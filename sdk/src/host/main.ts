// `node sdk/dist/host/main.js [--port 8790] [--host 127.0.0.1]`: the local
// container host on its own. Ctrl-C stops it and every container it runs.
import { parseArgs } from "node:util";
import { DEFAULT_HOST_PORT, startContainerHost } from "./index.js";

const { values } = parseArgs({
  options: { port: { type: "string", default: String(DEFAULT_HOST_PORT) }, host: { type: "string", default: "127.0.0.1" } },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`--port must be a port number, not ${values.port}\n`);
  process.exit(2);
}

const host = await startContainerHost({ port, host: values.host });
process.stdout.write(`container host listening on ${host.url} (at most ${host.limits.maxContainers} containers, ${host.limits.maxStarts} starting at once)\n`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void host.close().finally(() => process.exit(0)));
}

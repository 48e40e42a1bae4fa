// Free ports for runner processes. The port is released before the runner
// binds it, so another process can take it in between: the caller retries
// when the runner reports EADDRINUSE.
import { createServer } from "node:net";

/** Asks the OS for a free port on 127.0.0.1. */
export function pickFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error("the OS gave no port"))));
    });
  });
}

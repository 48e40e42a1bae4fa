// A TCP proxy in front of the local platform, for the e2e suites that cut a
// client's connections or look at what went over them.
import { createServer, connect, type Server, type Socket } from "node:net";
import { inject } from "vitest";
import { Client } from "../../sdk/src/index";
import { eventually, sleep } from "./helpers";

/**
 * A TCP proxy in front of the Worker that can drop every connection and
 * refuse new ones for a while: a client's network going away mid-map.
 */
export class FlakyProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private downUntilMs = 0;
  dropped = 0;
  refused = 0;
  /** Calls started over HTTP, and call channels opened, through this proxy (read off the requests' first lines). */
  callPosts = 0;
  channelUpgrades = 0;

  constructor(private readonly targetPort: number) {
    this.server = createServer((client) => {
      if (Date.now() < this.downUntilMs) {
        this.refused++;
        return void client.destroy();
      }
      const upstream = connect(this.targetPort, "127.0.0.1");
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => undefined);
      }
      client.on("data", (chunk: Buffer) => {
        const text = chunk.toString("latin1");
        this.callPosts += text.match(/POST \/v1\/functions\/[^/ ]+\/calls /g)?.length ?? 0;
        this.channelUpgrades += text.match(/GET \/v1\/functions\/[^/ ]+\/channel /g)?.length ?? 0;
      });
      client.pipe(upstream).pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
  }

  listen(): Promise<string> {
    return new Promise((resolve) => this.server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(this.server.address() as { port: number }).port}`)));
  }

  /** Cuts every open connection and refuses new ones for `ms`. */
  drop(ms: number): void {
    this.dropped += this.sockets.size;
    for (const s of this.sockets) s.destroy();
    this.downUntilMs = Date.now() + ms;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Runs `test` with a client that reaches the platform through a new FlakyProxy, closed afterwards. */
export async function throughProxy(test: (proxy: FlakyProxy, client: Client) => Promise<void>): Promise<void> {
  const proxy = new FlakyProxy(Number(new URL(inject("squallUrl")).port));
  const url = await proxy.listen();
  try {
    await test(proxy, new Client({ url, token: inject("squallToken") }));
  } finally {
    await proxy.close();
  }
}

/** Makes `firstCall` (a pool's first call goes over HTTP and opens its call channel), then waits until that channel is open. */
export async function channelOpened(proxy: FlakyProxy, firstCall: () => Promise<unknown>): Promise<void> {
  const before = proxy.channelUpgrades;
  await firstCall();
  await eventually("the call channel to open", async () => (proxy.channelUpgrades > before ? true : undefined), 30_000);
  await sleep(200); // the upgrade's answer, and the socket open
}

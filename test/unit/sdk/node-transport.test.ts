import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getEventListeners } from "node:events";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeTransport } from "../../../sdk/src/node-transport";
import type { TransportRequest } from "../../../sdk/src/transport";

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      switch (req.url) {
        case "/echo":
          res.writeHead(201, "Made", { "content-type": "application/cbor", "x-method": req.method, "x-auth": req.headers.authorization ?? "" });
          return res.end(body);
        case "/gzip":
          res.writeHead(200, { "content-encoding": "gzip" });
          return res.end(gzipSync(Buffer.from("squeezed")));
        case "/cut":
          res.writeHead(200, { "content-length": "100" });
          res.write("only part");
          return void setTimeout(() => res.destroy(), 20);
        case "/slow":
          return void setTimeout(() => res.end("late"), 5_000);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const request = (path: string, rest: Partial<TransportRequest> = {}): TransportRequest => ({
  method: "POST",
  url: new URL(base + path),
  headers: { authorization: "Bearer t" },
  body: undefined,
  signal: undefined,
  ...rest,
});

describe("the Node transport", () => {
  it("sends the method, headers and body, and answers the status, headers and whole body", async () => {
    const res = await nodeTransport(request("/echo", { body: new Uint8Array([1, 2, 3]) }));
    expect(res.status).toBe(201);
    expect(res.statusText).toBe("Made");
    expect(res.header("content-type")).toBe("application/cbor");
    expect(res.header("x-method")).toBe("POST");
    expect(res.header("x-auth")).toBe("Bearer t");
    expect(res.header("x-missing")).toBeNull();
    expect([...res.body]).toEqual([1, 2, 3]);
    expect((await nodeTransport(request("/echo", { method: "GET" }))).body.byteLength).toBe(0);
  });

  it("decodes a compressed body", async () => {
    expect(new TextDecoder().decode((await nodeTransport(request("/gzip"))).body)).toBe("squeezed");
  });

  it("rejects a response cut short", async () => {
    await expect(nodeTransport(request("/cut"))).rejects.toThrow();
  });

  it("rejects with the signal's reason when it aborts, and leaves no listener on it", async () => {
    const controller = new AbortController();
    const pending = nodeTransport(request("/slow", { signal: controller.signal }));
    setTimeout(() => controller.abort(new Error("stop")), 20);
    await expect(pending).rejects.toThrow("stop");
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    const done = new AbortController();
    await nodeTransport(request("/echo", { signal: done.signal }));
    expect(getEventListeners(done.signal, "abort")).toHaveLength(0);
  });

  it("rejects when nothing listens", async () => {
    await expect(nodeTransport(request("/echo", { url: new URL("http://127.0.0.1:1/echo") }))).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});

// Stand-in for Cloudflare's networking sidecar (`cloudflare/proxy-everything`),
// which workerd runs beside each local container and which cannot be pulled
// here. See ../README.md. It does the one part local containers need:
// workerd reaches the container's ports through it (HTTP CONNECT to the
// sidecar's ingress address, which shares the container's network). It
// accepts egress configuration and answers for a CA, but enforces no egress
// policy and intercepts no TLS: the container's own traffic goes out directly.
import { createServer } from "node:http";
import { connect } from "node:net";

function argument(name, fallback) {
  const at = process.argv.indexOf(name);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

const ingress = argument("--http-ingress-address", "0.0.0.0:39001");
const separator = ingress.lastIndexOf(":");
const host = ingress.slice(0, separator);
const port = Number(ingress.slice(separator + 1));

const server = createServer((req, res) => {
  // PUT /egress (egress rules) and PUT /egress-port are accepted and not enforced;
  // GET /ca is answered empty, since no TLS is intercepted.
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("");
  });
});

server.on("connect", (req, client, head) => {
  const target = req.url ?? "";
  const at = target.lastIndexOf(":");
  const targetPort = Number(target.slice(at + 1));
  // The container shares this sidecar's network namespace: its ports are on loopback here.
  const upstream = connect(targetPort, "127.0.0.1", () => {
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  const close = () => {
    upstream.destroy();
    client.destroy();
  };
  upstream.on("error", () => {
    if (!client.destroyed) client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
    close();
  });
  client.on("error", close);
  upstream.on("close", close);
  client.on("close", close);
});

server.listen(port, host, () => console.log(`squall egress stand-in: ingress on ${ingress}`));
process.on("SIGTERM", () => process.exit(0));

// The `squall` entry's call channels in Node (channel.ts): WebSockets from
// the `ws` package, whose TCP socket keeps the process alive only while a
// call waits for its answer, so that a script ends when its work does.
import type { Socket } from "node:net";
import WebSocket from "ws";
import { setChannelOpener } from "./channel.js";

setChannelOpener((url, token, events) => {
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  let socket: Socket | null = null;
  let closed = false;
  const close = (refused = false): void => {
    if (closed) return;
    closed = true;
    events.close(refused);
  };
  ws.on("upgrade", (res) => {
    socket = res.socket as Socket;
  });
  ws.on("open", () => {
    socket?.unref();
    events.open();
  });
  ws.on("message", (data: Buffer) => events.message(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
  ws.on("unexpected-response", (req, res) => {
    // The platform refused the upgrade (an older one has no channel route): calls go over HTTP.
    res.resume();
    req.destroy();
    close(true);
  });
  ws.on("error", () => close());
  ws.on("close", () => close());
  return {
    send: (bytes) => ws.send(bytes),
    close: () => (ws.readyState === WebSocket.CONNECTING ? ws.terminate() : ws.close()),
    abort: () => ws.terminate(),
    hold: (held) => (held ? socket?.ref() : socket?.unref()),
  };
});

// The pool's end of a call channel (sdk/src/wire/channel.ts). The Worker's
// channel route checks the token, the request rate and the function once,
// then hands the upgrade to the function's pool, which accepts the WebSocket
// here. Each frame is a remote call, a map's inputs or a read of a map's
// outputs, checked as the HTTP route it stands for checks its request and
// done by the same pool method; its answer goes back on the socket. This
// runs in the pool's Durable Object, so a frame costs no HTTP request,
// Worker invocation or RPC.
import { CHANNEL_LIFETIME_MS, type ChannelAnswer, type ChannelFrame } from "../../sdk/src/wire/channel";
import { ChannelFrameError, answer, answerFrame, readChannelFrame, type ChannelHost, type ChannelOpening, type OpenChannel } from "./channel-calls";

/** Carries what the Worker checked to the pool, with the upgrade (only the Worker can reach a pool). */
export const CHANNEL_OPENING_HEADER = "x-squall-channel-opening";

/** The WebSocket close code for a frame that is no call (RFC 6455: data inconsistent with the message type). */
const CLOSE_MALFORMED = 1007;
/** A close frame's reason is at most 123 bytes. */
const MAX_CLOSE_REASON_CHARS = 120;

/** Accepts the upgrade the Worker's channel route passed on: the 101 response whose socket is the client's. */
export function acceptChannel(request: Request, host: ChannelHost): Response {
  const opening = JSON.parse(request.headers.get(CHANNEL_OPENING_HEADER) ?? "null") as ChannelOpening | null;
  if (!opening || request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("not a call channel", { status: 400 });
  host.configure(opening.config);
  const channel: OpenChannel = { version: host.configVersion(), closesAtMs: host.nowMs() + CHANNEL_LIFETIME_MS, opening };
  const [client, server] = Object.values(new WebSocketPair());
  server.accept();
  // Binary frames as ArrayBuffers (newer compatibility dates default to Blob).
  (server as WebSocket & { binaryType: string }).binaryType = "arraybuffer";
  server.addEventListener("message", (event) => {
    let frame: ChannelFrame;
    try {
      frame = readChannelFrame(event.data);
    } catch (err) {
      if (!(err instanceof ChannelFrameError)) throw err;
      if (err.id === null) server.close(CLOSE_MALFORMED, err.message.slice(0, MAX_CLOSE_REASON_CHARS));
      else send(server, { id: err.id, error: { code: err.cause.code, message: err.cause.message } });
      return;
    }
    void answer(host, channel, frame)
      .catch((err: unknown): ChannelAnswer => {
        console.error("unexpected error on a call channel", err);
        return { id: frame.id, error: { code: "INTERNAL", message: "internal error; the platform's logs have the details" } };
      })
      .then((a) => send(server, a));
  });
  return new Response(null, { status: 101, webSocket: client });
}

function send(ws: WebSocket, reply: ChannelAnswer): void {
  // A client that went away sends its calls again over HTTP; nothing here waits for it.
  if (ws.readyState === WebSocket.READY_STATE_OPEN) ws.send(answerFrame(reply));
}

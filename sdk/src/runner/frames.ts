// Size limits of what a runner sends to its pool.

/**
 * A Worker (the pool's Durable Object) closes a WebSocket that receives a
 * message over 1 MiB (code 1009), which would lose every input on the
 * container. So no frame may exceed it; the headroom covers CBOR framing.
 */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** The payload budget of one frame (values and log text), below MAX_FRAME_BYTES. */
export const FRAME_PAYLOAD_BUDGET = MAX_FRAME_BYTES - 32 * 1024;

export { chunkBySize } from "../wire/chunks.js";

/** Cuts `text` to at most `maxBytes` of UTF-8, saying how much was cut. */
export function truncateUtf8(text: string, maxBytes: number): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes: short strings need no measuring.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, "utf8");
  if (bytes.byteLength <= maxBytes) return text;
  const note = ` … [${bytes.byteLength - maxBytes} more bytes cut]`;
  // Cutting inside a multi-byte character leaves a replacement character: drop it.
  return (
    bytes
      .subarray(0, maxBytes)
      .toString("utf8")
      .replace(/\uFFFD$/, "") + note
  );
}

// The runner's Outbox on its own: outputs held until acknowledged, and sent
// again on the next connection whatever moment the previous one went.
import { describe, it, expect } from "vitest";
import { Outbox, type Send } from "../../../sdk/src/runner/outbox";
import { FRAME_PAYLOAD_BUDGET } from "../../../sdk/src/runner/frames";
import type { RunnerOutput, RunnerToPool } from "../../../sdk/src/wire/protocol";

/** An output big enough that two of them never share a frame. */
const big = (id: number): RunnerOutput => ({ id, status: "success", value: new Uint8Array(Math.ceil(FRAME_PAYLOAD_BUDGET * 0.6)) });
const small = (id: number): RunnerOutput => ({ id, status: "success", value: new Uint8Array(8) });
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A connection whose writes settle when the test says so. */
function connection() {
  const sent: number[] = [];
  const pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  const send: Send = (m: RunnerToPool) =>
    new Promise<void>((resolve, reject) => {
      if (m.t === "outputs") sent.push(...m.outputs.map((o) => o.id));
      pending.push({ resolve, reject });
    });
  return { send, sent, pending };
}

/** A connection that takes every write at once. */
function openConnection() {
  const sent: number[] = [];
  const send: Send = async (m: RunnerToPool) => {
    if (m.t === "outputs") sent.push(...m.outputs.map((o) => o.id));
  };
  return { send, sent };
}

describe("runner outbox", () => {
  it("keeps a sent output until it is acknowledged, and sends the rest again on the next connection", async () => {
    const outbox = new Outbox();
    const a = openConnection();
    outbox.setSend(a.send);
    outbox.addOutput(small(1));
    outbox.addOutput(small(2));
    await tick();
    await tick();
    expect(a.sent).toEqual([1, 2]);
    outbox.acknowledge([2]);
    expect(outbox.heldIds()).toEqual([1]);
    outbox.setSend(null);
    const b = openConnection();
    outbox.setSend(b.send);
    await tick();
    await tick();
    expect(b.sent).toEqual([1]);
  });

  it("a connection replaced while a frame was being written: the unwritten frames go out on the new one", async () => {
    const outbox = new Outbox();
    const a = connection();
    outbox.setSend(a.send);
    outbox.addOutput(big(1));
    outbox.addOutput(big(2)); // a second frame
    await tick();
    expect(a.sent).toEqual([1]); // frame 1 is being written
    // The connection drops and a new one arrives before the write fails.
    outbox.setSend(null);
    const b = openConnection();
    outbox.setSend(b.send);
    a.pending[0].reject(new Error("closed"));
    for (let i = 0; i < 5; i++) await tick();
    expect(b.sent.sort()).toEqual([1, 2]);
    expect(outbox.heldIds().sort()).toEqual([1, 2]); // sent on b, not yet acknowledged
    outbox.acknowledge([1, 2]);
    expect(outbox.heldIds()).toEqual([]);
  });

  it("a connection replaced between two frames: the second frame goes out on the new one", async () => {
    const outbox = new Outbox();
    const a = connection();
    outbox.setSend(a.send);
    outbox.addOutput(big(1));
    outbox.addOutput(big(2));
    await tick();
    outbox.setSend(null);
    const b = openConnection();
    outbox.setSend(b.send);
    a.pending[0].resolve(); // frame 1 was written to the old connection just before it went
    for (let i = 0; i < 5; i++) await tick();
    expect(a.sent).toEqual([1]);
    expect(b.sent.sort()).toEqual([1, 2]);
  });
});

// The runner's side of streaming generators on its own: credit (how far a
// generator may run ahead of its reader) and the outbox's handling of
// yielded values (sent before their input's output, kept until the pool
// has stored them, sent again on the next connection).
import { describe, it, expect } from "vitest";
import { StreamCredits } from "../../../sdk/src/runner/stream-credits";
import { Outbox, type Send } from "../../../sdk/src/runner/outbox";
import { STREAM_WINDOW, type RunnerToPool } from "../../../sdk/src/wire/protocol";

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const settled = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  await tick();
  return done;
};

/** A connection that takes every write at once, recording what went out in order. */
function openConnection() {
  const sent: string[] = [];
  const send: Send = async (m: RunnerToPool) => {
    if (m.t === "items") sent.push(...m.items.map((i) => `item ${i.id}.${i.seq}`));
    if (m.t === "outputs") sent.push(...m.outputs.map((o) => `output ${o.id}`));
  };
  return { send, sent };
}

describe("stream credit", () => {
  it("lets a generator produce a window of values before any grant, then waits for one", async () => {
    const credits = new StreamCredits();
    for (let seq = 0; seq < STREAM_WINDOW; seq++) expect(await credits.waitFor(1, seq)).toBe(true);
    const next = credits.waitFor(1, STREAM_WINDOW);
    expect(await settled(next)).toBe(false);
    credits.grant([{ id: 1, stored: STREAM_WINDOW, until: STREAM_WINDOW + 1 }]);
    expect(await next).toBe(true);
  });

  it("never takes credit back, and a cancel ends the wait with false", async () => {
    const credits = new StreamCredits();
    await credits.waitFor(1, 0);
    credits.grant([{ id: 1, stored: 0, until: STREAM_WINDOW + 5 }]);
    credits.grant([{ id: 1, stored: 0, until: 3 }]); // an older grant arriving late
    expect(await credits.waitFor(1, STREAM_WINDOW + 4)).toBe(true);
    const waiting = credits.waitFor(1, STREAM_WINDOW + 5);
    credits.cancel(1);
    expect(await waiting).toBe(false);
  });

  it("drops a grant for an input that finished (no entry is kept for it)", async () => {
    const credits = new StreamCredits();
    await credits.waitFor(1, 0);
    credits.close(1);
    credits.grant([{ id: 1, stored: 0, until: 100 }]);
    // A new input with the same id starts from the default window, not the late grant.
    expect(await settled(credits.waitFor(1, STREAM_WINDOW))).toBe(false);
  });
});

describe("outbox: yielded values", () => {
  it("sends values before the output that follows them, and again on the next connection until the pool has stored them", async () => {
    const outbox = new Outbox();
    const a = openConnection();
    outbox.setSend(a.send);
    outbox.addItem({ id: 7, seq: 0, value: new Uint8Array(1) });
    outbox.addItem({ id: 7, seq: 1, value: new Uint8Array(1) });
    outbox.addOutput({ id: 7, status: "success", value: new Uint8Array(1) });
    await tick();
    await tick();
    expect(a.sent).toEqual(["item 7.0", "item 7.1", "output 7"]);
    outbox.itemsStored([{ id: 7, stored: 1, until: STREAM_WINDOW + 1 }]);
    outbox.setSend(null);
    const b = openConnection();
    outbox.setSend(b.send);
    await tick();
    await tick();
    expect(b.sent).toEqual(["item 7.1", "output 7"]);
  });

  it("forgets a cancelled input's values", async () => {
    const outbox = new Outbox();
    outbox.addItem({ id: 3, seq: 0, value: new Uint8Array(1) });
    outbox.addItem({ id: 4, seq: 0, value: new Uint8Array(1) });
    outbox.discardOutputs(new Set([3]));
    const a = openConnection();
    outbox.setSend(a.send);
    await tick();
    await tick();
    expect(a.sent).toEqual(["item 4.0"]);
  });
});

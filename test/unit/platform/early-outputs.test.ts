import { describe, expect, it } from "vitest";
import { EarlyOutputs, STORE_DELAY_MS, type EarlyOutputHost, type FinalOutput } from "../../../src/pool/early-outputs";

function finished(id: number, callId: string, kind: "remote" | "map" | "spawn", idx = 0): FinalOutput {
  return { input: { id, callId, idx, kind }, status: "success", value: new Uint8Array([id]) };
}

/** A host that records what it is asked to do, in order; deferred flushes run when the test says. */
function recordingHost() {
  const events: string[] = [];
  const deferred: Array<() => void> = [];
  const delaysMs: number[] = [];
  const waiting = { inputs: false };
  const host: EarlyOutputHost<FinalOutput> = {
    store: (containerId, f) => events.push(`store ${containerId} ${f.map((x) => x.input.id).join(",")}`),
    acknowledge: (containerId, ids) => events.push(`ack ${containerId} ${ids.join(",")}`),
    loadChanged: () => events.push("load"),
    inputsWaiting: () => waiting.inputs,
    defer: (flush, delayMs) => {
      deferred.push(flush);
      delaysMs.push(delayMs);
    },
  };
  return { host, events, deferred, delaysMs, waiting };
}

/** Waits until `callId`'s reader is registered, and returns how to end its wait. */
function reader(early: EarlyOutputs, callId: string): { done: () => void; waited: Promise<void> } {
  let done!: () => void;
  const waited = early.awaiting(
    callId,
    new Promise<void>((r) => {
      done = r;
    }),
  );
  return { done, waited };
}

describe("outputs answered before they are stored", () => {
  it("holds only a remote call's output whose reader waits now; the rest are stored at once", () => {
    const { host } = recordingHost();
    const early = new EarlyOutputs(host);
    reader(early, "fc-remote");
    reader(early, "fc-map");
    const remote = finished(1, "fc-remote", "remote");
    const unread = finished(2, "fc-unread", "remote");
    const map = finished(3, "fc-map", "map");
    const spawned = finished(4, "fc-spawn", "spawn");
    const { held, rest } = early.hold("ct-a", [remote, unread, map, spawned]);
    expect(held).toEqual([remote]);
    expect(rest).toEqual([unread, map, spawned]);
    expect(early.outputOf("fc-remote")).toEqual({ idx: 0, status: "success", value: new Uint8Array([1]) });
    expect(early.outputOf("fc-unread")).toBeNull();
    expect(early.outputOf("fc-map")).toBeNull();
  });

  it("holds nothing once the reader's wait is over (answered, or timed out)", async () => {
    const { host } = recordingHost();
    const early = new EarlyOutputs(host);
    const r = reader(early, "fc-1");
    r.done();
    await r.waited;
    expect(early.hold("ct-a", [finished(1, "fc-1", "remote")]).held).toEqual([]);
  });

  it("counts readers: a call stays awaited while any of its readers waits", async () => {
    const { host } = recordingHost();
    const early = new EarlyOutputs(host);
    const first = reader(early, "fc-1");
    reader(early, "fc-1");
    first.done();
    await first.waited;
    expect(early.hold("ct-a", [finished(1, "fc-1", "remote")]).held).toHaveLength(1);
  });

  it("stores STORE_DELAY_MS later, for the caller's next call to store with its own writes; in the next task when inputs wait for a slot", () => {
    const { host, deferred, delaysMs, waiting } = recordingHost();
    const early = new EarlyOutputs(host);
    for (const id of ["fc-1", "fc-2"]) reader(early, id);
    early.hold("ct-a", [finished(1, "fc-1", "remote")]);
    deferred[0]();
    waiting.inputs = true;
    early.hold("ct-a", [finished(2, "fc-2", "remote")]);
    expect(delaysMs).toEqual([STORE_DELAY_MS, 0]);
  });

  it("asks again, for the next task, when inputs come to wait while a store STORE_DELAY_MS away is pending; not twice for the same delay", () => {
    const { host, deferred, delaysMs, waiting, events } = recordingHost();
    const early = new EarlyOutputs(host);
    for (const id of ["fc-1", "fc-2", "fc-3"]) reader(early, id);
    early.hold("ct-a", [finished(1, "fc-1", "remote")]);
    early.hold("ct-a", [finished(2, "fc-2", "remote")]);
    waiting.inputs = true;
    early.hold("ct-b", [finished(3, "fc-3", "remote")]);
    expect(delaysMs).toEqual([STORE_DELAY_MS, 0]);
    deferred[1]();
    expect(events.filter((e) => e.startsWith("store"))).toEqual(["store ct-a 1,2", "store ct-b 3"]);
    deferred[0](); // the earlier one, run late, finds nothing held
    expect(events.filter((e) => e.startsWith("store"))).toHaveLength(2);
  });

  it("stores each container's held outputs, then acknowledges them, then reports the load once", () => {
    const { host, events } = recordingHost();
    const early = new EarlyOutputs(host);
    for (const id of ["fc-1", "fc-2", "fc-3"]) reader(early, id);
    early.hold("ct-a", [finished(1, "fc-1", "remote"), finished(2, "fc-2", "remote")]);
    early.hold("ct-b", [finished(3, "fc-3", "remote")]);
    early.flush();
    expect(events).toEqual(["store ct-a 1,2", "store ct-b 3", "ack ct-a 1,2", "ack ct-b 3", "load"]);
    expect(early.outputOf("fc-1")).toBeNull();
  });

  it("flushes once per batch in a later task; a flush at an entry point before it leaves it nothing to do", () => {
    const { host, events, deferred } = recordingHost();
    const early = new EarlyOutputs(host);
    for (const id of ["fc-1", "fc-2", "fc-3"]) reader(early, id);
    early.hold("ct-a", [finished(1, "fc-1", "remote")]);
    early.hold("ct-a", [finished(2, "fc-2", "remote")]);
    expect(deferred).toHaveLength(1);
    deferred[0]();
    expect(events).toEqual(["store ct-a 1,2", "ack ct-a 1,2", "load"]);

    early.hold("ct-a", [finished(3, "fc-3", "remote")]);
    expect(deferred).toHaveLength(2);
    early.flush(); // an entry point
    deferred[1]();
    expect(events.filter((e) => e.startsWith("store"))).toEqual(["store ct-a 1,2", "store ct-a 3"]);
  });

  it("is empty before it stores: what storing sets off (a lost container, a dispatch) flushes nothing twice", () => {
    const events: string[] = [];
    const early: EarlyOutputs = new EarlyOutputs({
      store: (containerId) => {
        events.push(`store ${containerId}`);
        early.flush();
        events.push(`outputOf ${JSON.stringify(early.outputOf("fc-1"))}`);
      },
      acknowledge: (containerId) => events.push(`ack ${containerId}`),
      loadChanged: () => undefined,
      inputsWaiting: () => false,
      defer: () => undefined,
    });
    reader(early, "fc-1");
    early.hold("ct-a", [finished(1, "fc-1", "remote")]);
    early.flush();
    expect(events).toEqual(["store ct-a", "outputOf null", "ack ct-a"]);
  });

  it("does nothing when nothing is held", () => {
    const { host, events, deferred } = recordingHost();
    const early = new EarlyOutputs(host);
    expect(early.hold("ct-a", [finished(1, "fc-1", "remote")]).rest).toHaveLength(1);
    early.flush();
    expect(events).toEqual([]);
    expect(deferred).toEqual([]);
  });
});

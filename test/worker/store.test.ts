// The pool's store on workerd's SQLite, tested directly: outputs kept a
// batch per row (read by cursor, acknowledged batch by batch, carried over
// from rows stored one per output), the input queue's partial indexes, a
// map's inputs kept a batch per row, and reads' touches kept in memory.
import { describe, it, expect } from "vitest";
import { env, runInDurableObject } from "cloudflare:test";
import { PoolStore, TOUCH_WRITE_INTERVAL_MS } from "../../src/pool/store";
import { HISTORY_ROWS, HISTORY_WRITE_INTERVAL_MS } from "../../src/pool/store-history";
import { MIN_RANGE_LENGTH } from "../../src/pool/id-ranges";
import { IDLE_WRITE_INTERVAL_MS } from "../../src/pool/store-containers";
import { MAX_CALL_ROW_OUTPUT_BYTES } from "../../src/pool/store-calls";
import { ACKNOWLEDGE_WRITE_INTERVAL_MS, CALL_ROW_OUTPUT_CURSOR } from "../../src/pool/store-outputs";
import { encode, decode } from "../../sdk/src/wire/serialization";

/** A fresh pool object's storage, with a store of the test's own over it. */
function withStore<T>(fn: (store: PoolStore, sql: SqlStorage) => T): Promise<T> {
  const stub = env.POOL.get(env.POOL.newUniqueId());
  return runInDurableObject(stub, (_, state) => fn(new PoolStore(state.storage.sql), state.storage.sql));
}

const args = (n: number) => Array.from({ length: n }, (_, idx) => ({ idx, args: encode([idx]) }));
const outputRows = (sql: SqlStorage, callId: string) => sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM output_batches WHERE call_id = ?", callId).one().n;

/** Replaces the calls table with one as an older pool has it: the first columns, and `more`. */
function replaceCallsTable(sql: SqlStorage, more: string): void {
  sql.exec("DROP INDEX calls_by_request");
  sql.exec("DROP TABLE calls");
  sql.exec(
    `CREATE TABLE calls (id TEXT PRIMARY KEY, kind TEXT NOT NULL, closed INTEGER NOT NULL, total INTEGER NOT NULL,
       done INTEGER NOT NULL DEFAULT 0, cancelled INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, touched_at INTEGER NOT NULL${more})`,
  );
}

/** Runs a map call's inputs on one container and finishes them all in one frame. */
function finishAll(store: PoolStore, callId: string, n: number, now: number): void {
  const claimed = store.claimInputs("c1", n, now, now + 1_000);
  store.completeMany(
    claimed.map((input) => ({ input, status: "success" as const, value: encode((decode(input.args) as number[])[0] * 10) })),
    now,
  );
  expect(store.getCall(callId)?.done).toBe(n);
}

describe("a call's outputs, stored a batch per row", () => {
  it("keeps a frame's outputs in one row and reads them in order, a cursor at a time", async () => {
    await withStore((store, sql) => {
      store.startCall("map-1", "map", true, 1, null, args(5));
      finishAll(store, "map-1", 5, 2);
      expect(outputRows(sql, "map-1")).toBe(1);
      const first = store.outputs.read("map-1", 0, 2);
      expect(first.map((o) => [o.idx, decode(o.value)])).toEqual([
        [0, 0],
        [1, 10],
      ]);
      const rest = store.outputs.read("map-1", first[1].cursor, 10);
      expect(rest.map((o) => o.idx)).toEqual([2, 3, 4]);
      expect(store.outputs.read("map-1", rest[2].cursor, 10)).toEqual([]);
      expect(store.outputs.lastCursor("map-1")).toBe(rest[2].cursor);
    });
  });

  it("stops a read before the output that would pass its byte budget, always reading one", async () => {
    await withStore((store) => {
      store.startCall("map-b", "map", true, 1, null, args(4));
      const claimed = store.claimInputs("c1", 4, 2, 1_002);
      store.completeMany(
        claimed.map((input) => ({ input, status: "success" as const, value: new Uint8Array(100) })),
        2,
      );
      const sizes = (cursor: number, maxBytes: number) => store.outputs.read("map-b", cursor, 10, maxBytes).map((o) => o.idx);
      expect(sizes(0, 250)).toEqual([0, 1]);
      expect(sizes(0, 50)).toEqual([0]);
      expect(sizes(0, 400)).toEqual([0, 1, 2, 3]);
      const [first] = store.outputs.read("map-b", 0, 10, 100);
      expect(sizes(first.cursor, 300)).toEqual([1, 2, 3]);
    });
  });

  it("drops a batch once it is read to its end, not before", async () => {
    await withStore((store, sql) => {
      store.startCall("map-2", "map", true, 1, null, args(4));
      finishAll(store, "map-2", 4, 2);
      const read = store.outputs.read("map-2", 0, 3);
      // The first acknowledgement is written at once: none was for ACKNOWLEDGE_WRITE_INTERVAL_MS.
      store.outputs.acknowledge("map-2", read[2].cursor, 10_000);
      expect(outputRows(sql, "map-2")).toBe(1);
      expect(store.outputs.read("map-2", read[2].cursor, 10).map((o) => o.idx)).toEqual([3]);
      store.outputs.acknowledge("map-2", store.outputs.lastCursor("map-2"), 10_000 + ACKNOWLEDGE_WRITE_INTERVAL_MS);
      expect(outputRows(sql, "map-2")).toBe(0);
    });
  });

  it("holds a read's acknowledgement until the next outputs are stored, or ACKNOWLEDGE_WRITE_INTERVAL_MS", async () => {
    await withStore((store, sql) => {
      store.startCall("map-a", "map", true, 1, null, args(2));
      finishAll(store, "map-a", 2, 2);
      store.outputs.acknowledge("map-a", 0, 10_000); // writes what had gathered (nothing) and starts the interval
      const [first, second] = store.outputs.read("map-a", 0, 10);
      store.outputs.acknowledge("map-a", second.cursor, 10_001);
      store.outputs.acknowledge("map-a", first.cursor, 10_002); // a cursor never goes back
      expect(outputRows(sql, "map-a")).toBe(1);
      // Held, it still hides nothing from a read past it, nor shows anything before it.
      expect(store.outputs.read("map-a", second.cursor, 10)).toEqual([]);
      store.startCall("map-b", "map", true, 1, null, args(1));
      finishAll(store, "map-b", 1, 3);
      expect(outputRows(sql, "map-a")).toBe(0);
      expect(outputRows(sql, "map-b")).toBe(1);

      store.outputs.acknowledge("map-b", store.outputs.lastCursor("map-b"), 10_003);
      expect(outputRows(sql, "map-b")).toBe(1);
      store.outputs.acknowledge("map-b", store.outputs.lastCursor("map-b"), 10_000 + ACKNOWLEDGE_WRITE_INTERVAL_MS);
      expect(outputRows(sql, "map-b")).toBe(0);
    });
  });

  it("gives an input its first output only, and counts it done once", async () => {
    await withStore((store) => {
      store.startCall("remote-1", "remote", true, 1, null, args(1));
      const [input] = store.claimInputs("c1", 1, 2, 1_000);
      store.completeMany([{ input, status: "success", value: encode("first") }], 3);
      store.completeMany([{ input, status: "failure", value: encode("second") }], 4);
      store.completeMany([{ input, status: "cancelled", value: encode("third") }], 5);
      const outputs = store.outputs.read("remote-1", 0, 10);
      expect(outputs.map((o) => [o.status, decode(o.value)])).toEqual([["success", "first"]]);
      expect(store.getCall("remote-1")?.done).toBe(1);
      expect(store.outputs.firstOfCalls(["remote-1"], 1_000).map((o) => decode(o.value))).toEqual(["first"]);
    });
  });

  it("carries over outputs stored a row each, where a reader's old cursor still finds its place", async () => {
    await withStore((_, sql) => {
      sql.exec("DROP TABLE output_batches");
      sql.exec(
        `CREATE TABLE outputs (seq INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT NOT NULL, idx INTEGER NOT NULL,
           status TEXT NOT NULL, value BLOB NOT NULL, created_at INTEGER NOT NULL)`,
      );
      for (const idx of [0, 1, 2])
        sql.exec("INSERT INTO outputs (call_id, idx, status, value, created_at) VALUES ('old', ?, 'success', ?, 1)", idx, encode(idx));
      const store = new PoolStore(sql);
      expect(sql.exec("SELECT name FROM sqlite_master WHERE name = 'outputs'").toArray()).toEqual([]);
      expect(store.outputs.read("old", 0, 10).map((o) => decode(o.value))).toEqual([0, 1, 2]);
      expect(store.outputs.read("old", 2, 10).map((o) => decode(o.value))).toEqual([2]); // the old cursor 2 is past the second row
      store.startCall("new", "map", true, 1, null, args(1));
      finishAll(store, "new", 1, 2);
      expect(store.outputs.read("new", 0, 10)[0].cursor).toBeGreaterThan(store.outputs.lastCursor("old"));
    });
  });
});

describe("request ids", () => {
  it("a request id starts one call: sent again, it finds that call and writes nothing", async () => {
    await withStore((store, sql) => {
      expect(store.startCall("remote-r1", "remote", true, 1, "req-1", args(1))).toBeNull();
      store.writeFresh();
      expect(store.startCall("remote-r2", "remote", true, 2, "req-1", args(1))).toBe("remote-r1");
      expect(store.startCall("remote-r3", "remote", true, 3, null, args(1))).toBeNull();
      expect(store.startCall("remote-r4", "remote", true, 4, null, args(1))).toBeNull();
      store.writeFresh();
      expect(
        sql
          .exec<{ id: string }>("SELECT id FROM calls ORDER BY id")
          .toArray()
          .map((r) => r.id),
      ).toEqual(["remote-r1", "remote-r3", "remote-r4"]);
      expect(store.inputsOf(null)).toHaveLength(3);
      store.deleteCall("remote-r1");
      expect(store.callOfRequest("req-1")).toBeNull();
    });
  });

  it("carries over the request ids of a pool from before, kept in a table of their own, and adds the columns of a running remote input", async () => {
    await withStore((_, sql) => {
      replaceCallsTable(sql, "");
      sql.exec("CREATE TABLE call_requests (request_id TEXT PRIMARY KEY, call_id TEXT NOT NULL)");
      sql.exec("INSERT INTO calls (id, kind, closed, total, created_at, touched_at) VALUES ('old-1', 'remote', 1, 1, 1, 1), ('old-2', 'map', 1, 0, 1, 1)");
      sql.exec("INSERT INTO call_requests (request_id, call_id) VALUES ('req-old', 'old-1')");
      const store = new PoolStore(sql);
      expect(sql.exec("SELECT name FROM sqlite_master WHERE name = 'call_requests'").toArray()).toEqual([]);
      expect(store.callOfRequest("req-old")).toBe("old-1");
      expect(store.startCall("new-1", "remote", true, 2, "req-old", args(1))).toBe("old-1");
      expect(store.startCall("new-2", "remote", true, 2, "req-new", args(1))).toBeNull();
      const [running] = store.claimInputs("c1", 1, 2, 1_000);
      expect(running.callId).toBe("new-2");
      const restarted = new PoolStore(sql);
      expect(restarted.callOfRequest("req-new")).toBe("new-2");
      expect(restarted.runningOn("c1").map((i) => i.callId)).toEqual(["new-2"]);
    });
  });
});

describe("the input queue", () => {
  it("holds back an input waiting out its retry delay, and counts it as delayed until then", async () => {
    await withStore((store) => {
      store.startCall("map-3", "map", true, 1, null, args(2));
      const [first] = store.claimInputs("c1", 1, 10, 1_000);
      const running = store.getRunning([first.id], "c1").get(first.id);
      if (!running) throw new Error("the claimed input is not running");
      store.requeue(running, 500, { failure: true });
      expect(store.countInputs(10)).toMatchObject({ pendingCalls: 2, readyNow: 1 });
      expect(store.earliestNotBefore(10)).toBe(500);
      expect(store.claimInputs("c1", 5, 10, 1_000).map((i) => i.idx)).toEqual([1]);
      expect(store.claimInputs("c1", 5, 499, 1_000)).toEqual([]);
      expect(store.claimInputs("c1", 5, 500, 1_000).map((i) => i.idx)).toEqual([0]);
      expect(store.countInputs(500)).toMatchObject({ pendingCalls: 0, running: 2, readyNow: 0 });
    });
  });

  it("knows a restarted pool's running inputs; one sent ahead waits for its container to say it started", async () => {
    await withStore((store, sql) => {
      store.startCall("map-4", "map", true, 1, null, args(3));
      const sent = store.claimInputs("c1", 2, 10, 1_000);
      const ahead = store.claimInputs("c1", 1, 10, null);
      store.markStarted("c1", [ahead[0].id], 2_000);
      expect(store.runningOn("c1").map((i) => i.started)).toEqual([true, true, true]);
      const restarted = new PoolStore(sql);
      const running = restarted.getRunning(
        [...sent, ...ahead].map((i) => i.id),
        "c1",
      );
      expect([...running.values()].map((i) => [i.idx, i.deadline])).toEqual([
        [0, 1_000],
        [1, 1_000],
        [2, null],
      ]);
      expect(restarted.getRunning([sent[0].id], "c2").size).toBe(0);
      restarted.markStarted("c1", [ahead[0].id], 3_000);
      expect(restarted.overdue(1_000).map((i) => i.idx)).toEqual([0, 1]);
      expect(restarted.overdue(3_000).map((i) => i.idx)).toEqual([0, 1, 2]);
      expect(restarted.earliestDeadline()).toBe(1_000);
      restarted.completeMany([{ input: sent[0], status: "success", value: encode(0) }], 20);
      expect(new PoolStore(sql).runningOn("c1").map((i) => i.idx)).toEqual([1, 2]);
    });
  });

  it("claims and ends a run of consecutive input rows as a range, leaving its neighbours as they were", async () => {
    await withStore((store, sql) => {
      // Spawned calls' inputs are a row each, with consecutive ids.
      const calls = Array.from({ length: 35 }, (_, k) => `spawn-${String(k).padStart(2, "0")}`);
      store.createSpawnCalls(calls, 1);
      store.deliverSpawns(calls.map((callId, k) => ({ callId, args: encode([k]), method: null })));
      const claimed = store.claimInputs("c1", 3 * MIN_RANGE_LENGTH, 10, 1_000);
      expect(claimed.map((i) => i.callId)).toEqual(calls.slice(0, 3 * MIN_RANGE_LENGTH));
      const states = () =>
        sql
          .exec<{ state: string; call_id: string }>("SELECT state, call_id FROM inputs ORDER BY id")
          .toArray()
          .map((r) => `${r.call_id}:${r.state}`);
      expect(states().filter((s) => s.endsWith(":running"))).toHaveLength(3 * MIN_RANGE_LENGTH);
      expect(states().slice(3 * MIN_RANGE_LENGTH)).toEqual(calls.slice(3 * MIN_RANGE_LENGTH).map((c) => `${c}:pending`));
      // The first and the last claimed stay running; the run between them ends.
      const ending = claimed.slice(1, -1);
      store.completeMany(
        ending.map((input) => ({ input, status: "success" as const, value: encode(input.idx) })),
        20,
      );
      expect(store.runningOn("c1").map((i) => i.callId)).toEqual([calls[0], calls[3 * MIN_RANGE_LENGTH - 1]]);
      expect(states().slice(0, 2)).toEqual([`${calls[0]}:running`, `${calls[3 * MIN_RANGE_LENGTH - 1]}:running`]);
      expect(states()).toHaveLength(35 - ending.length);
      expect(store.countInputs(20)).toMatchObject({ pendingSpawns: 35 - 3 * MIN_RANGE_LENGTH, running: 2 });
    });
  });
});

/** Batches stored: each is a row and a row of its arguments, kept and dropped together. */
function batchRows(sql: SqlStorage): number {
  const [batches, args] = ["input_batches", "input_batch_args"].map((table) => sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n);
  expect(args).toBe(batches);
  return batches;
}
const inputRows = (sql: SqlStorage) => sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM inputs").one().n;
const from = (start: number, n: number) => Array.from({ length: n }, (_, k) => ({ idx: start + k, args: encode([start + k]) }));
const argOf = (input: { args: Uint8Array }) => (decode(input.args) as number[])[0];

describe("a map's inputs, stored a batch per row", () => {
  it("keeps a request's inputs in one row, and claims them with rows merged by id", async () => {
    await withStore((store, sql) => {
      store.startCall("map-b1", "map", false, 1, null, from(0, 5));
      store.startCall("remote-b1", "remote", true, 1, null, from(0, 1));
      store.addMapInputs("map-b1", from(5, 3));
      expect([batchRows(sql), inputRows(sql)]).toEqual([2, 1]);
      expect(store.getCall("map-b1")?.total).toBe(8);
      const first = store.claimInputs("c1", 4, 2, 1_000);
      expect(first.map((i) => [i.callId, i.idx, argOf(i)])).toEqual([
        ["map-b1", 0, 0],
        ["map-b1", 1, 1],
        ["map-b1", 2, 2],
        ["map-b1", 3, 3],
      ]);
      // The remote's row came between the two batches, and is claimed there.
      const rest = store.claimInputs("c2", 10, 2, null);
      expect(rest.map((i) => `${i.callId}:${i.idx}:${argOf(i)}`)).toEqual(["map-b1:4:4", "remote-b1:0:0", "map-b1:5:5", "map-b1:6:6", "map-b1:7:7"]);
      expect(rest.map((i) => i.id)).toEqual([...rest.map((i) => i.id)].sort((a, b) => a - b));
      expect(store.countInputs(2)).toMatchObject({ pendingCalls: 0, running: 9 });
      expect([batchRows(sql), inputRows(sql)]).toEqual([2, 1]);
    });
  });

  it("moves a retried input to a row of its own, keeping its id, where a cancel finds it; a batch goes once all of it is gone", async () => {
    await withStore((store, sql) => {
      store.startCall("map-b2", "map", true, 1, null, from(0, 3));
      const claimed = store.claimInputs("c1", 3, 2, 1_000);
      const running = store.getRunning([claimed[1].id], "c1").get(claimed[1].id)!;
      store.requeue(running, 50, { failure: true });
      expect(inputRows(sql)).toBe(1);
      expect(store.countInputs(2)).toMatchObject({ pendingCalls: 1, running: 2, readyNow: 0 });
      // Cancelled while it waits in its row, its batch still there: it ends as a row does.
      const [moved] = store.inputsOf("map-b2").filter((i) => i.state === "pending");
      expect(moved.id).toBe(claimed[1].id);
      store.completeMany([{ input: moved, status: "cancelled", value: encode("cancelled") }], 3);
      expect([inputRows(sql), batchRows(sql), store.countInputs(3).pendingCalls]).toEqual([0, 1, 0]);
      store.completeMany(
        [0, 2].map((k) => ({ input: claimed[k], status: "success" as const, value: encode(k) })),
        3,
      );
      expect([batchRows(sql), store.getCall("map-b2")?.done]).toEqual([0, 3]);
    });
  });

  it("moves a retried input to a row of its own and runs it from there, with its failures counted", async () => {
    await withStore((store, sql) => {
      store.startCall("map-b2r", "map", true, 1, null, from(0, 3));
      const claimed = store.claimInputs("c1", 3, 2, 1_000);
      store.requeue(store.getRunning([claimed[1].id], "c1").get(claimed[1].id)!, 50, { failure: true });
      store.completeMany(
        [0, 2].map((k) => ({ input: claimed[k], status: "success" as const, value: encode(k) })),
        3,
      );
      expect(batchRows(sql)).toBe(0);
      const [retry] = store.claimInputs("c2", 5, 50, 2_000);
      expect([retry.id, retry.idx, argOf(retry)]).toEqual([claimed[1].id, 1, 1]);
      expect(store.getRunning([retry.id], "c2").get(retry.id)).toMatchObject({ failures: 1, deadline: 2_000 });
      store.completeMany([{ input: retry, status: "success", value: encode(1) }], 60);
      expect([batchRows(sql), inputRows(sql), store.getCall("map-b2r")?.done]).toEqual([0, 0, 3]);
    });
  });

  it("is rebuilt by a restarted pool: claimed inputs run where they were claimed, the rest wait, gone ones stay gone", async () => {
    await withStore((store, sql) => {
      store.startCall("map-b3", "map", false, 1, null, from(0, 6));
      const sent = store.claimInputs("c1", 2, 2, 1_000);
      const ahead = store.claimInputs("c2", 1, 2, null);
      store.completeMany([{ input: sent[0], status: "success", value: encode(0) }], 3);
      const restarted = new PoolStore(sql);
      expect(restarted.runningOn("c1").map((i) => [i.idx, i.started])).toEqual([[1, true]]);
      expect(restarted.runningOn("c2").map((i) => [i.idx, i.started])).toEqual([[2, false]]);
      expect(restarted.getRunning([sent[1].id], "c1").get(sent[1].id)?.deadline).toBe(1_000);
      expect(restarted.countInputs(3)).toMatchObject({ pendingCalls: 3, running: 2 });
      expect(restarted.claimInputs("c3", 10, 3, 1_000).map((i) => [i.idx, argOf(i)])).toEqual([
        [3, 3],
        [4, 4],
        [5, 5],
      ]);
      // A completion the restarted pool hears about for an input already done changes nothing.
      restarted.completeMany([{ input: sent[0], status: "failure", value: encode("late") }], 4);
      expect(restarted.getCall("map-b3")?.done).toBe(1);
      expect(ahead[0].idx).toBe(2);
    });
  });

  it("never hands out an input id twice, across batches dropped and a restart", async () => {
    await withStore((store, sql) => {
      store.startCall("map-b4", "map", true, 1, null, from(0, 4));
      const claimed = store.claimInputs("c1", 4, 2, 1_000);
      store.completeMany(
        claimed.map((input) => ({ input, status: "success" as const, value: encode(input.idx) })),
        3,
      );
      expect(batchRows(sql)).toBe(0);
      const restarted = new PoolStore(sql);
      restarted.startCall("remote-b4", "remote", true, 4, null, from(0, 1));
      restarted.startCall("map-b5", "map", true, 4, null, from(0, 2));
      const ids = restarted.claimInputs("c1", 10, 5, 1_000).map((i) => i.id);
      expect(ids).toHaveLength(3);
      expect(Math.min(...ids)).toBeGreaterThan(Math.max(...claimed.map((i) => i.id)));
    });
  });

  it("lists a batch's waiting inputs for cancellation, ends them without a claim, and claims skip them", async () => {
    await withStore((store, sql) => {
      store.startCall("map-b6", "map", false, 1, null, from(0, 4));
      store.startCall("map-b7", "map", false, 1, null, from(0, 2));
      const [running] = store.claimInputs("c1", 1, 2, 1_000);
      const listed = store.inputsOf("map-b6");
      expect(listed.map((i) => [i.idx, i.state, i.containerId])).toEqual([
        [0, "running", "c1"],
        [1, "pending", null],
        [2, "pending", null],
        [3, "pending", null],
      ]);
      store.completeMany(
        listed.map((input) => ({ input, status: "cancelled" as const, value: encode("cancelled") })),
        3,
      );
      expect(running.idx).toBe(0);
      expect(store.getCall("map-b6")?.done).toBe(4);
      expect(store.countInputs(3)).toMatchObject({ pendingCalls: 2, running: 0 });
      expect(store.claimInputs("c1", 10, 3, 1_000).map((i) => `${i.callId}:${i.idx}`)).toEqual(["map-b7:0", "map-b7:1"]);
      expect(new PoolStore(sql).hasCalls()).toBe(true);
      store.deleteCall("map-b6");
      store.deleteCall("map-b7");
      store.deleteCall("map-b7");
      expect([batchRows(sql), store.inputsOf(null), store.hasCalls(), new PoolStore(sql).hasCalls()]).toEqual([0, [], false, false]);
      expect(store.countInputs(3)).toMatchObject({ pendingCalls: 0, running: 0 });
    });
  });
});

describe("a remote call's input, held until claimed", () => {
  const inputRows = (sql: SqlStorage) =>
    sql
      .exec<{ call_id: string; state: string; container_id: string | null }>("SELECT call_id, state, container_id FROM inputs ORDER BY id")
      .toArray()
      .map((r) => `${r.call_id}:${r.state}:${r.container_id}`);
  const onCallRows = (sql: SqlStorage) =>
    sql
      .exec<{ id: string; input_container: string | null; has_args: number }>(
        "SELECT id, input_container, input_args IS NOT NULL AS has_args FROM calls WHERE kind = 'remote' ORDER BY id",
      )
      .toArray()
      .map((r) => `${r.id}:${r.input_container}:${r.has_args}`);

  it("is written once, on its call's row, as running, when a claim takes it, after the older inputs waiting", async () => {
    await withStore((store, sql) => {
      store.createSpawnCalls(["spawn-f1"], 1);
      store.deliverSpawns([{ callId: "spawn-f1", args: encode([1]), method: null }]);
      store.startCall("remote-f1", "remote", true, 1, null, from(7, 1));
      expect(onCallRows(sql)).toEqual([]);
      expect(store.countInputs(2)).toMatchObject({ pendingCalls: 1, pendingSpawns: 1 });
      const claimed = store.claimInputs("c1", 5, 2, 1_000);
      expect(claimed.map((i) => `${i.callId}:${argOf(i)}`)).toEqual(["spawn-f1:1", "remote-f1:7"]);
      expect(inputRows(sql)).toEqual(["spawn-f1:running:c1"]);
      expect(onCallRows(sql)).toEqual(["remote-f1:c1:1"]);
      const restarted = new PoolStore(sql);
      expect(restarted.runningOn("c1").map((i) => i.callId)).toEqual(["spawn-f1", "remote-f1"]);
      expect(restarted.inputsOf("remote-f1").map((i) => [i.state, i.containerId])).toEqual([["running", "c1"]]);
      expect(restarted.getRunning([claimed[1].id], "c1").get(claimed[1].id)?.deadline).toBe(1_000);
      restarted.completeMany([{ input: claimed[1], status: "success", value: encode(70) }], 3);
      expect(onCallRows(sql)).toEqual(["remote-f1:null:0"]);
      expect(restarted.getCall("remote-f1")?.done).toBe(1);
      expect(new PoolStore(sql).runningOn("c1").map((i) => i.callId)).toEqual(["spawn-f1"]);
    });
  });

  it("is written pending, as a row, when no claim takes it, and every read of calls or inputs finds it", async () => {
    await withStore((store, sql) => {
      store.startCall("remote-f2", "remote", true, 1, null, from(0, 1));
      expect(store.inputsOf("remote-f2").map((i) => i.state)).toEqual(["pending"]);
      store.startCall("remote-f3", "remote", true, 1, null, from(0, 1));
      expect(store.getCall("remote-f3")?.total).toBe(1);
      store.startCall("remote-f4", "remote", true, 1, null, from(0, 1));
      store.writeFresh();
      expect(onCallRows(sql)).toEqual(["remote-f2:null:0", "remote-f3:null:0", "remote-f4:null:0"]);
      const restarted = new PoolStore(sql);
      expect(restarted.countInputs(1)).toMatchObject({ pendingCalls: 3 });
      expect(restarted.claimInputs("c1", 5, 1, 1_000).map((i) => i.callId)).toEqual(["remote-f2", "remote-f3", "remote-f4"]);
    });
  });

  it("moves to a row of its own when put back, with the failure counted, and runs from there", async () => {
    await withStore((store, sql) => {
      store.startCall("remote-f5", "remote", true, 1, null, [{ idx: 0, args: encode([5]), method: "greet" }]);
      const [first] = store.claimInputs("c1", 1, 1, 1_000);
      const [running] = store.runningOn("c1");
      store.requeue(running, 50, { failure: true });
      expect(onCallRows(sql)).toEqual(["remote-f5:null:0"]);
      expect(inputRows(sql)).toEqual(["remote-f5:pending:null"]);
      const restarted = new PoolStore(sql);
      expect(restarted.countInputs(10)).toMatchObject({ pendingCalls: 1, readyNow: 0, running: 0 });
      const [again] = restarted.claimInputs("c2", 1, 50, 2_000);
      expect([again.id, again.method, argOf(again)]).toEqual([first.id, "greet", 5]);
      expect(restarted.runningOn("c2").map((i) => [i.callId, i.failures])).toEqual([["remote-f5", 1]]);
      restarted.completeMany([{ input: again, status: "success", value: encode(50) }], 60);
      expect(inputRows(sql)).toEqual([]);
      expect(restarted.getCall("remote-f5")?.done).toBe(1);
    });
  });

  it("keeps a small output on the call's row, where reads and reads of many calls find it; a large one in output_batches", async () => {
    await withStore((store, sql) => {
      const finish = (callId: string, value: Uint8Array) => {
        store.startCall(callId, "remote", true, 1, null, from(0, 1));
        const [input] = store.claimInputs("c1", 1, 1, 1_000);
        store.completeMany([{ input, status: "success", value }], 2);
      };
      finish("remote-o1", encode("small"));
      finish("remote-o2", new Uint8Array(MAX_CALL_ROW_OUTPUT_BYTES + 1).fill(7));
      store.createSpawnCalls(["spawn-o3"], 1);
      store.deliverSpawns([{ callId: "spawn-o3", args: encode([3]), method: null }]);
      const [spawned] = store.claimInputs("c1", 1, 1, 1_000);
      store.completeMany([{ input: spawned, status: "failure", value: encode("no") }], 2);
      expect([outputRows(sql, "remote-o1"), outputRows(sql, "remote-o2"), outputRows(sql, "spawn-o3")]).toEqual([0, 1, 1]);
      const restarted = new PoolStore(sql);
      const [small] = restarted.outputs.read("remote-o1", 0, 10);
      expect([small.cursor, small.idx, small.status, decode(small.value)]).toEqual([CALL_ROW_OUTPUT_CURSOR, 0, "success", "small"]);
      expect(restarted.outputs.read("remote-o1", small.cursor, 10)).toEqual([]);
      expect(restarted.outputs.read("remote-o2", 0, 10).map((o) => o.value.byteLength)).toEqual([MAX_CALL_ROW_OUTPUT_BYTES + 1]);
      const many = restarted.outputs.firstOfCalls(["spawn-o3", "remote-o1", "remote-none"], 1 << 20);
      expect(many.map((o) => [o.callId, o.status])).toEqual([
        ["spawn-o3", "failure"],
        ["remote-o1", "success"],
      ]);
      expect(restarted.getCall("remote-o1")).toMatchObject({ total: 1, done: 1 });
      restarted.deleteCall("remote-o1");
      expect(restarted.outputs.read("remote-o1", 0, 10)).toEqual([]);
    });
  });

  it("gets the output columns on a pool whose calls table has only the input's", async () => {
    await withStore((_, sql) => {
      replaceCallsTable(sql, ", request_id TEXT, input_id INTEGER, input_args BLOB, input_method TEXT, input_container TEXT, input_deadline INTEGER");
      const store = new PoolStore(sql);
      store.startCall("remote-m1", "remote", true, 1, "req-m1", from(0, 1));
      const [input] = store.claimInputs("c1", 1, 1, 1_000);
      store.completeMany([{ input, status: "success", value: encode(1) }], 2);
      expect(new PoolStore(sql).outputs.read("remote-m1", 0, 1).map((o) => decode(o.value))).toEqual([1]);
      expect(outputRows(sql, "remote-m1")).toBe(0);
    });
  });

  it("never shares an input id with an earlier call's, across restarts, though its row holds the id only while it runs", async () => {
    await withStore((store, sql) => {
      const ids: number[] = [];
      let pool = store;
      for (let k = 0; k < 3; k++) {
        pool.startCall(`remote-i${k}`, "remote", true, 1, null, from(0, 1));
        const [input] = pool.claimInputs("c1", 1, 1, 1_000);
        ids.push(input.id);
        pool.completeMany([{ input, status: "success", value: encode(0) }], 2);
        pool = new PoolStore(sql);
      }
      pool.startCall("map-i", "map", true, 1, null, from(0, 2));
      ids.push(...pool.claimInputs("c1", 2, 1, 1_000).map((i) => i.id));
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    });
  });
});

describe("containers", () => {
  it("counts a restarted pool's running inputs per container from its inputs, and keeps when a container became idle", async () => {
    await withStore((store, sql) => {
      const container = (s: PoolStore) => s.containers.all().map((c) => ({ running: c.running, idleSince: c.idleSince }));
      store.containers.add({ id: "c1", deploymentId: "d1", secret: "s", now: 1 });
      store.containers.markReady("c1", 5);
      store.startCall("map-c1", "map", true, 1, null, from(0, 3));
      const claimed = store.claimInputs("c1", 3, 10, 1_000);
      store.containers.addRunning("c1", 3, 10);
      expect(container(store)).toEqual([{ running: 3, idleSince: null }]);
      store.completeMany([{ input: claimed[0], status: "success", value: encode(0) }], 20);
      store.containers.addRunning("c1", -1, 20);
      expect(container(new PoolStore(sql))).toEqual([{ running: 2, idleSince: null }]);
      const idleAt = 5 + IDLE_WRITE_INTERVAL_MS;
      store.completeMany(
        claimed.slice(1).map((input) => ({ input, status: "success" as const, value: encode(input.idx) })),
        idleAt,
      );
      store.containers.addRunning("c1", -2, idleAt);
      expect(container(store)).toEqual([{ running: 0, idleSince: idleAt }]);
      expect(container(new PoolStore(sql))).toEqual([{ running: 0, idleSince: idleAt }]);
    });
  });

  it("writes a container becoming idle again within IDLE_WRITE_INTERVAL_MS only in memory: a restarted pool finds the time written before", async () => {
    await withStore((store, sql) => {
      const idleSince = (s: PoolStore) => s.containers.all()[0].idleSince;
      store.containers.add({ id: "c1", deploymentId: "d1", secret: "s", now: 1 });
      store.containers.markReady("c1", 100);
      store.containers.addRunning("c1", 1, 200);
      store.containers.addRunning("c1", -1, 100 + IDLE_WRITE_INTERVAL_MS - 1);
      expect(idleSince(store)).toBe(100 + IDLE_WRITE_INTERVAL_MS - 1);
      expect(idleSince(new PoolStore(sql))).toBe(100);
      store.containers.addRunning("c1", 1, 100 + IDLE_WRITE_INTERVAL_MS);
      store.containers.addRunning("c1", -1, 100 + IDLE_WRITE_INTERVAL_MS);
      expect(idleSince(new PoolStore(sql))).toBe(100 + IDLE_WRITE_INTERVAL_MS);
    });
  });
});

describe("recent inputs (the dashboard's history)", () => {
  it("lists the newest lines first across frames, keeps a failure's error, and trims to the newest HISTORY_ROWS", async () => {
    await withStore((store, sql) => {
      store.startCall("map-5", "map", true, 1, null, args(3 * HISTORY_ROWS));
      let now = 10;
      for (let sent = 0; sent < 3 * HISTORY_ROWS; sent += 50) {
        const claimed = store.claimInputs("c1", 50, now, now + 1_000);
        now += HISTORY_WRITE_INTERVAL_MS / 2;
        store.completeMany(
          claimed.map((input) => ({ input, status: input.idx % 2 ? ("failure" as const) : ("success" as const), value: encode(`e${input.idx}`) })),
          now,
          1_000,
        );
      }
      const recent = store.history.recent(HISTORY_ROWS);
      expect(recent.map((l) => l.idx)).toEqual(Array.from({ length: HISTORY_ROWS }, (_, k) => 3 * HISTORY_ROWS - 1 - k));
      expect(recent[0]).toMatchObject({
        callId: "map-5",
        status: "failure",
        containerId: "c1",
        startedAt: now - HISTORY_WRITE_INTERVAL_MS / 2,
        finishedAt: now,
      });
      expect(decode(recent[0].error as Uint8Array)).toBe(`e${3 * HISTORY_ROWS - 1}`);
      expect(recent[1].error).toBeNull();
      const stored = sql.exec<{ n: number }>("SELECT SUM(lines) AS n FROM history_batches").one().n;
      expect(stored).toBeGreaterThanOrEqual(HISTORY_ROWS);
      expect(stored).toBeLessThanOrEqual(2 * HISTORY_ROWS);
    });
  });

  it("holds lines in memory, listed at once, and writes them once the interval has passed or when asked", async () => {
    await withStore((store, sql) => {
      const written = () => sql.exec<{ n: number | null }>("SELECT SUM(lines) AS n FROM history_batches").one().n ?? 0;
      const finish = (n: number, now: number) => {
        const claimed = store.claimInputs("c1", n, now, now + 1_000);
        store.completeMany(
          claimed.map((input) => ({ input, status: "success" as const, value: encode(input.idx) })),
          now,
        );
      };
      store.startCall("map-6", "map", true, 1, null, args(10));
      expect(store.history.writeDueAtMs()).toBeNull();
      finish(3, 100);
      finish(3, 100 + HISTORY_WRITE_INTERVAL_MS - 1);
      expect(store.history.recent(10).map((l) => l.idx)).toEqual([5, 4, 3, 2, 1, 0]);
      expect([written(), store.history.writeDueAtMs()]).toEqual([0, 100 + HISTORY_WRITE_INTERVAL_MS]);
      // A pool that dies now forgets them: they were only the dashboard's lines.
      expect(new PoolStore(sql).history.recent(10)).toEqual([]);
      finish(2, 100 + HISTORY_WRITE_INTERVAL_MS);
      expect([written(), store.history.writeDueAtMs()]).toEqual([8, null]);
      finish(2, 200 + HISTORY_WRITE_INTERVAL_MS);
      expect(written()).toBe(8);
      store.history.write();
      expect(written()).toBe(10);
      expect(new PoolStore(sql).history.recent(3).map((l) => l.idx)).toEqual([9, 8, 7]);
    });
  });
});

describe("reads touching a call (what its expiry counts from)", () => {
  const touchedAt = (sql: SqlStorage, callId: string) => sql.exec<{ t: number }>("SELECT touched_at AS t FROM calls WHERE id = ?", callId).one().t;
  const HOUR_MS = 60 * 60 * 1_000;

  it("keeps a read's touch in memory, and the sweep still counts from it", async () => {
    await withStore((store, sql) => {
      store.startCall("remote-1", "remote", true, 1, null, args(1));
      finishAll(store, "remote-1", 1, 2);
      const firstAt = 10 * HOUR_MS;
      const readAt = firstAt + TOUCH_WRITE_INTERVAL_MS - 1;
      store.touches.touch(["remote-1"], firstAt);
      store.touches.touch(["remote-1"], readAt);
      // The second read came within the interval: nothing written, so its answer waits for no commit.
      expect(touchedAt(sql, "remote-1")).toBe(firstAt);
      // With a result TTL of an hour, a sweep an hour after the first read still counts from the second.
      expect(store.expiredCalls(firstAt + HOUR_MS + 1, HOUR_MS, 2 * HOUR_MS)).toEqual([]);
      expect(touchedAt(sql, "remote-1")).toBe(readAt);
      expect(store.expiredCalls(readAt + HOUR_MS + 1, HOUR_MS, 2 * HOUR_MS)).toEqual(["remote-1"]);
    });
  });

  it("writes what has gathered once the interval has passed, and never moves a touch back", async () => {
    await withStore((store, sql) => {
      store.startCall("map-6", "map", true, 1, null, args(2));
      store.startCall("map-7", "map", true, 1, null, args(2));
      store.touches.touch(["map-6", "map-7"], 1_000);
      store.touches.touch(["map-6"], 1_000 + TOUCH_WRITE_INTERVAL_MS - 1);
      expect(touchedAt(sql, "map-7")).toBe(1_000);
      store.touches.touch(["map-7"], 1_000 + 2 * TOUCH_WRITE_INTERVAL_MS);
      expect(touchedAt(sql, "map-6")).toBe(1_000 + TOUCH_WRITE_INTERVAL_MS - 1);
      expect(touchedAt(sql, "map-7")).toBe(1_000 + 2 * TOUCH_WRITE_INTERVAL_MS);
      // An older touch written late does not undo a newer time already stored.
      sql.exec("UPDATE calls SET touched_at = ? WHERE id = ?", 9 * TOUCH_WRITE_INTERVAL_MS, "map-6");
      store.touches.touch(["map-6"], 1_000 + 3 * TOUCH_WRITE_INTERVAL_MS);
      expect(touchedAt(sql, "map-6")).toBe(9 * TOUCH_WRITE_INTERVAL_MS);
    });
  });

  it("forgets a deleted call's touch", async () => {
    await withStore((store, sql) => {
      store.startCall("map-8", "map", true, 1, null, args(1));
      store.touches.touch(["map-8"], 1);
      store.touches.touch(["map-8"], 2);
      store.deleteCall("map-8");
      store.touches.write(10 * TOUCH_WRITE_INTERVAL_MS);
      expect(sql.exec("SELECT id FROM calls").toArray()).toEqual([]);
    });
  });
});

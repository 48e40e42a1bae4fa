// The pool's store on workerd's SQLite, tested directly: outputs kept a
// batch per row (read by cursor, acknowledged batch by batch, carried over
// from rows stored one per output), the input queue's partial indexes, and
// reads' touches kept in memory.
import { describe, it, expect } from "vitest";
import { env, runInDurableObject } from "cloudflare:test";
import { PoolStore, TOUCH_WRITE_INTERVAL_MS } from "../../src/pool/store";
import { HISTORY_ROWS } from "../../src/pool/store-history";
import { MIN_RANGE_LENGTH } from "../../src/pool/id-ranges";
import { encode, decode } from "../../sdk/src/wire/serialization";

/** A fresh pool object's storage, with a store of the test's own over it. */
function withStore<T>(fn: (store: PoolStore, sql: SqlStorage) => T): Promise<T> {
  const stub = env.POOL.get(env.POOL.newUniqueId());
  return runInDurableObject(stub, (_, state) => fn(new PoolStore(state.storage.sql), state.storage.sql));
}

const args = (n: number) => Array.from({ length: n }, (_, idx) => ({ idx, args: encode([idx]) }));
const outputRows = (sql: SqlStorage, callId: string) => sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM output_batches WHERE call_id = ?", callId).one().n;

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

  it("drops a batch once it is read to its end, not before", async () => {
    await withStore((store, sql) => {
      store.startCall("map-2", "map", true, 1, null, args(4));
      finishAll(store, "map-2", 4, 2);
      const read = store.outputs.read("map-2", 0, 3);
      store.outputs.acknowledge("map-2", read[2].cursor);
      expect(outputRows(sql, "map-2")).toBe(1);
      expect(store.outputs.read("map-2", read[2].cursor, 10).map((o) => o.idx)).toEqual([3]);
      store.outputs.acknowledge("map-2", store.outputs.lastCursor("map-2"));
      expect(outputRows(sql, "map-2")).toBe(0);
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

  it("claims and ends a run of consecutive inputs as a range, leaving its neighbours as they were", async () => {
    await withStore((store, sql) => {
      store.startCall("map-9", "map", true, 1, null, args(30));
      store.startCall("map-10", "map", true, 1, null, args(5));
      const claimed = store.claimInputs("c1", 3 * MIN_RANGE_LENGTH, 10, 1_000);
      expect(claimed.map((i) => i.idx)).toEqual(Array.from({ length: 3 * MIN_RANGE_LENGTH }, (_, k) => k));
      const states = () =>
        sql
          .exec<{ idx: number; state: string; call_id: string }>("SELECT idx, state, call_id FROM inputs ORDER BY id")
          .toArray()
          .map((r) => `${r.call_id}:${r.idx}:${r.state}`);
      expect(states().filter((s) => s.endsWith(":running"))).toHaveLength(3 * MIN_RANGE_LENGTH);
      expect(states().filter((s) => s.startsWith("map-10:"))).toEqual([
        "map-10:0:pending",
        "map-10:1:pending",
        "map-10:2:pending",
        "map-10:3:pending",
        "map-10:4:pending",
      ]);
      // The first and the last claimed stay running; the run between them ends.
      const ending = claimed.slice(1, -1);
      store.completeMany(
        ending.map((input) => ({ input, status: "success" as const, value: encode(input.idx) })),
        20,
      );
      expect(store.runningOn("c1").map((i) => i.idx)).toEqual([0, 3 * MIN_RANGE_LENGTH - 1]);
      expect(states().slice(0, 2)).toEqual(["map-9:0:running", `map-9:${3 * MIN_RANGE_LENGTH - 1}:running`]);
      expect(states()).toHaveLength(35 - ending.length);
      expect(store.countInputs(20)).toMatchObject({ pendingCalls: 35 - 3 * MIN_RANGE_LENGTH, running: 2 });
      expect(store.getCall("map-9")?.done).toBe(ending.length);
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
        store.completeMany(
          claimed.map((input) => ({ input, status: input.idx % 2 ? ("failure" as const) : ("success" as const), value: encode(`e${input.idx}`) })),
          ++now,
          1_000,
        );
      }
      const recent = store.history.recent(HISTORY_ROWS);
      expect(recent.map((l) => l.idx)).toEqual(Array.from({ length: HISTORY_ROWS }, (_, k) => 3 * HISTORY_ROWS - 1 - k));
      expect(recent[0]).toMatchObject({ callId: "map-5", status: "failure", containerId: "c1", startedAt: now - 1, finishedAt: now });
      expect(decode(recent[0].error as Uint8Array)).toBe(`e${3 * HISTORY_ROWS - 1}`);
      expect(recent[1].error).toBeNull();
      const stored = sql.exec<{ n: number }>("SELECT SUM(lines) AS n FROM history_batches").one().n;
      expect(stored).toBeGreaterThanOrEqual(HISTORY_ROWS);
      expect(stored).toBeLessThanOrEqual(2 * HISTORY_ROWS);
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
      store.touchCall("remote-1", firstAt);
      store.touchCall("remote-1", readAt);
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
      store.touchCalls(["map-6", "map-7"], 1_000);
      store.touchCall("map-6", 1_000 + TOUCH_WRITE_INTERVAL_MS - 1);
      expect(touchedAt(sql, "map-7")).toBe(1_000);
      store.touchCall("map-7", 1_000 + 2 * TOUCH_WRITE_INTERVAL_MS);
      expect(touchedAt(sql, "map-6")).toBe(1_000 + TOUCH_WRITE_INTERVAL_MS - 1);
      expect(touchedAt(sql, "map-7")).toBe(1_000 + 2 * TOUCH_WRITE_INTERVAL_MS);
      // An older touch written late does not undo a newer time already stored.
      sql.exec("UPDATE calls SET touched_at = ? WHERE id = ?", 9 * TOUCH_WRITE_INTERVAL_MS, "map-6");
      store.touchCall("map-6", 1_000 + 3 * TOUCH_WRITE_INTERVAL_MS);
      expect(touchedAt(sql, "map-6")).toBe(9 * TOUCH_WRITE_INTERVAL_MS);
    });
  });

  it("forgets a deleted call's touch", async () => {
    await withStore((store, sql) => {
      store.startCall("map-8", "map", true, 1, null, args(1));
      store.touchCall("map-8", 1);
      store.touchCall("map-8", 2);
      store.deleteCall("map-8");
      store.writeTouches(10 * TOUCH_WRITE_INTERVAL_MS);
      expect(sql.exec("SELECT id FROM calls").toArray()).toEqual([]);
    });
  });
});

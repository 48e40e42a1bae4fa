// Issue 12 points 1-2 at the pool level, with the fake backend of
// pool-entry.ts injecting each kind of failed start: the platform's (no
// capacity, host unreachable, connection dropped) never fail inputs and are
// retried; the container's own (exits before listening or before ready,
// init_failed, startupTimeoutMs) trip the breaker after three. And a busy
// container whose process dies without its socket closing is noticed.
import { describe, it, expect } from "vitest";
import type { FunctionStats, StartsHeldBack } from "../../sdk/src/wire/api";
import { decode, encode } from "../../sdk/src/wire/serialization";
import { fakeCompute, type StartBehaviour } from "./fake-compute";
import { api, deploy, manifest, newWorkspace } from "./helpers";

interface Output {
  idx: number;
  status: string;
  value: Uint8Array;
}

/** Deploys `app` with one function `f` and returns what runs a map over it. */
async function setUp(app: string, options: Record<string, unknown> = {}) {
  const token = await newWorkspace(app);
  const res = await deploy(token, manifest(app, [{ name: "f", options: { maxContainers: 1, ...options } }]));
  expect(res.status).toBe(201);
  const functionId = ((await res.json()) as { functions: Array<{ functionId: string }> }).functions[0].functionId;
  return {
    stats: async (): Promise<FunctionStats> => (await api(token).get(`/v1/functions/${functionId}/stats`)).json(),
    /** The function's log lines (what `squall logs` shows). */
    logs: async (): Promise<string[]> =>
      ((await (await api(token).get(`/v1/functions/${functionId}/logs`)).json()) as { lines: Array<{ text: string }> }).lines.map((l) => l.text),
    /** Maps `xs` through `f`; resolves with every output once the call is done. */
    map: async (xs: number[], whileWaiting: () => Promise<void> = async () => {}): Promise<Output[]> => {
      const created = await api(token).cbor(`/v1/functions/${functionId}/calls`, {
        kind: "map",
        inputs: xs.map((x, idx) => ({ idx, args: encode([x]) })),
        closed: true,
      });
      expect(created.status).toBe(200);
      const { callId } = decode<{ callId: string }>(new Uint8Array(await created.arrayBuffer()));
      const outputs: Output[] = [];
      let cursor = 0;
      for (;;) {
        const res = await api(token).get(`/v1/calls/${callId}/outputs?cursor=${cursor}&waitMs=200`);
        const body = decode<{ outputs: Output[]; cursor: number; done: boolean }>(new Uint8Array(await res.arrayBuffer()));
        outputs.push(...body.outputs);
        cursor = body.cursor;
        if (body.done) return outputs.sort((a, b) => a.idx - b.idx);
        await whileWaiting();
      }
    },
  };
}

const errorOf = (o: Output): { name: string; message: string } => decode(o.value);

describe("the platform's failures to start a container", () => {
  it("never fail inputs: the pool backs off, says why in its stats, and runs them once the platform recovers", async () => {
    const app = "platform-errors";
    // Five platform errors in a row, more than the three that trip the breaker.
    fakeCompute.script(app, ["unreachable", "capacity", "dropped", "capacity", "unreachable"]);
    const pool = await setUp(app);
    const holds = new Map<StartsHeldBack["reason"], StartsHeldBack>();
    const outputs = await pool.map([1, 2, 3], async () => {
      const held = (await pool.stats()).startsHeldBack;
      if (held) holds.set(held.reason, held);
    });
    expect(outputs.map((o) => [o.status, decode(o.value)])).toEqual([
      ["success", 1],
      ["success", 4],
      ["success", 9],
    ]);
    expect(fakeCompute.attempts(app)).toEqual(["unreachable", "capacity", "dropped", "capacity", "unreachable", "ok"]);
    // Platform-error holds last half a second or more: the stats showed one, naming the error.
    expect(holds.get("platform_error")?.message).toMatch(/is not reachable/);
    expect((await pool.stats()).startsHeldBack).toBeNull();
    // The app's logs say why starts waited: each platform error, and each capacity hold once.
    const logs = (await pool.logs()).filter((l) => l.startsWith("[squall]"));
    expect(logs.filter((l) => /platform error\), retrying in \d+ ms: .*is not reachable/.test(l))).toHaveLength(3);
    expect(logs.filter((l) => /no room for containers, retrying in 200 ms/.test(l))).toHaveLength(2);
  }, 60_000);
});

describe("a container's own failures to start", () => {
  const message: Record<string, RegExp> = {
    start_exits: /runner exited with code 2 before listening/,
    exits_before_ready: /container stopped before it was ready: its connection closed; the container exited with code 3/,
    init_failed: /this bundle only loads outside containers/,
    never_ready: /container did not become ready within 1 s \(startupTimeoutMs\)/,
  };

  it.each(Object.keys(message) as StartBehaviour[])(
    "%s: the third in a row fails the waiting inputs and holds starts back",
    async (kind) => {
      const app = `container-${kind.replace(/_/g, "-")}`;
      fakeCompute.script(app, [kind, kind, kind]);
      const pool = await setUp(app, { startupTimeoutMs: 1_000 });
      const outputs = await pool.map([1, 2]);
      for (const o of outputs) {
        expect(o.status).toBe("platform_error");
        expect(errorOf(o).message).toMatch(/^containers for f failed to start 3 times: /);
        expect(errorOf(o).message).toMatch(message[kind]);
      }
      expect(fakeCompute.attempts(app)).toEqual([kind, kind, kind]);
      expect((await pool.stats()).startsHeldBack).toMatchObject({ reason: "start_failures", message: expect.stringMatching(message[kind]) });
      expect((await pool.logs()).filter((l) => l.startsWith("[squall] a container failed to start"))).toHaveLength(3);
    },
    30_000,
  );

  it("platform errors between them neither count nor forgive: the third container failure still trips", async () => {
    const app = "mixed-failures";
    fakeCompute.script(app, ["init_failed", "capacity", "exits_before_ready", "dropped", "never_ready"]);
    const pool = await setUp(app, { startupTimeoutMs: 1_000 });
    const outputs = await pool.map([5]);
    expect(outputs[0].status).toBe("platform_error");
    expect(errorOf(outputs[0]).message).toMatch(/failed to start 3 times: container did not become ready within 1 s/);
    expect(fakeCompute.attempts(app)).toEqual(["init_failed", "capacity", "exits_before_ready", "dropped", "never_ready"]);
  }, 30_000);
});

describe("a busy container that dies without its connection closing", () => {
  it("is found out by asking the backend once it is silent, and its input runs again elsewhere", async () => {
    const app = "vanishing";
    // The first container dies on its first input (as under `docker kill`); its socket stays open and silent.
    fakeCompute.script(app, ["vanish"]);
    const pool = await setUp(app, { timeoutMs: 600_000 });
    const outputs = await pool.map([7]);
    expect(outputs.map((o) => [o.status, decode(o.value)])).toEqual([["success", 49]]);
    expect(fakeCompute.attempts(app)).toEqual(["vanish", "ok"]);
  }, 90_000);
});

// A ComputeBackend for pool-level tests inside workerd: each start does what
// the test scripted for its app (refuse for capacity, fail as the platform,
// fail as the container), and a container that starts is a fake runner at the
// end of a WebSocketPair speaking the runner protocol (init -> ready -> inputs
// -> outputs/ack). It lives in the pools' isolate, so tests script it directly.
import type { ComputeBackend } from "../../src/compute/backend";
import { ContainerFailedError } from "../../src/compute/backend";
import { capacityError } from "../../src/compute/capacity-errors";
import { STREAM_WINDOW, type PoolToRunner, type RunnerOutput, type RunnerToPool } from "../../sdk/src/wire/protocol";
import { decode, encode } from "../../sdk/src/wire/serialization";

/**
 * What one start does:
 * - ok: the runner starts, says ready, and answers each input `[x]` with x squared; an input
 *   `[x, delayMs]` after delayMs (never, if negative); `[x, 0, failures]` fails its first
 *   `failures` runs in this app (a RemoteError), then succeeds
 * - hold: as ok, but the runner keeps its inputs and never answers them
 * - vanish: as ok, but on its first inputs the process dies without its socket closing (a `docker kill`)
 * - crash: as ok, but on its first inputs the process dies and its socket closes
 * - answers_then_crashes: as ok, but right after it answers its second inputs frame the process dies and its socket closes
 * - keeps: as ok, and like the real runner keeps each output until the pool acknowledges it: a new
 *   connection (after a pool restart) hears it holds them, and gets them again
 * - resyncs: holds its inputs unanswered; once the pool reconnects (after a restart) it says it
 *   holds only the first half of them (the rest "never reached it"), answers those, and from
 *   then on answers inputs as ok
 * - capacity / unreachable / dropped: the platform refuses or fails the start
 * - start_exits: the host reports the runner exited before listening (the container's failure)
 * - exits_before_ready: the runner listens, then exits while loading the bundle
 * - init_failed: the bundle throws on import
 * - never_ready: the runner never answers init (startupTimeoutMs)
 * - streams: a generator runner: an input `[n]` yields 0..n-1 as values, within the credit the
 *   pool grants, then ends with `n` as its output; `[n, 1]` throws after its values instead
 * - floods: a runner that ignores credit: an input `[n]` sends all n values at once, value 0
 *   again, and never ends
 * - queues: a runner with slots, as the real one: it runs `maxInputs` inputs at once, keeps the
 *   rest queued, and says which queued ones started (`started`, in the frame of the output that
 *   freed their slot); an input `[x, delayMs]` holds its slot for delayMs, then answers x squared;
 *   delayMs -1 hangs (a cancel frees the slot), -2 kills the container as it starts, -3 blocks
 *   the runner's event loop for good (it answers nothing more, cancels included)
 */
export type StartBehaviour =
  | "ok"
  | "hold"
  | "vanish"
  | "crash"
  | "answers_then_crashes"
  | "keeps"
  | "resyncs"
  | "capacity"
  | "unreachable"
  | "dropped"
  | "start_exits"
  | "exits_before_ready"
  | "init_failed"
  | "never_ready"
  | "streams"
  | "floods"
  | "queues";

interface Script {
  /** One per start, in order; once used up, `then` for every start. */
  starts: StartBehaviour[];
  then: StartBehaviour;
}

interface FakeContainer {
  app: string;
  behaviour: StartBehaviour;
  exit: string | null;
  /** Inputs a `hold` runner has been sent. */
  held: number;
  /** The x of each input it was sent, in order (again when sent again). */
  received: number[];
  /** The x of each input it answered with a success. */
  answered: number[];
  /** What a `resyncs` runner holds: input id and x. */
  holding: Array<{ id: number; x: number }>;
  /** Outputs a `keeps` runner has sent and the pool has not acknowledged. */
  unacked: Map<number, RunnerOutput>;
  /** Outputs the pool acknowledged, in order. */
  acked: number[];
  connections: number;
  /** A `queues` runner: the most inputs it held at once (running and queued), and the most it ran at once. */
  peakHeld: number;
  peakRunning: number;
}

/** What a test sees of one fake container. */
export interface FakeContainerView {
  id: string;
  exit: string | null;
  received: number[];
  answered: number[];
  /** Input ids whose outputs the pool acknowledged. */
  acked: number[];
  peakHeld: number;
  peakRunning: number;
}

/** Retry-after of the fake platform's capacity errors: short, so tests do not wait long. */
export const FAKE_CAPACITY_RETRY_MS = 200;

const scripts = new Map<string, Script>();
const containers = new Map<string, FakeContainer>();
/** Per app, each start attempt's behaviour in order. */
const attempts = new Map<string, StartBehaviour[]>();
/** Per app, the platform URL (SQUALL_URL) each start was given. */
const urls = new Map<string, string[]>();
/** Per app and x, when each run of `[x, ...]` arrived (for retries' backoff). */
const runs = new Map<string, number[]>();

export const fakeCompute = {
  /** Scripts the starts of `app`'s containers. Apps without a script fail every start as the container's own failure. */
  script(app: string, starts: StartBehaviour[], then: StartBehaviour = "ok"): void {
    scripts.set(app, { starts: [...starts], then });
  },
  /** Changes what the rest of `app`'s starts do. */
  recover(app: string, then: StartBehaviour = "ok"): void {
    scripts.set(app, { starts: [], then });
  },
  attempts(app: string): StartBehaviour[] {
    return attempts.get(app) ?? [];
  },
  /** The platform URL each of `app`'s starts was given, in order. */
  urls(app: string): string[] {
    return urls.get(app) ?? [];
  },
  /** `app`'s containers in the order they started. */
  containers(app: string): FakeContainerView[] {
    return [...containers.entries()]
      .filter(([, c]) => c.app === app)
      .map(([id, c]) => ({
        id,
        exit: c.exit,
        received: [...c.received],
        answered: [...c.answered],
        acked: [...c.acked],
        peakHeld: c.peakHeld,
        peakRunning: c.peakRunning,
      }));
  },
  /** When each run of the input `[x, ...]` of `app` reached a runner. */
  runs(app: string, x: number): number[] {
    return runs.get(`${app}/${x}`) ?? [];
  },
  /** Inputs held by `app`'s running `hold` or `resyncs` containers. */
  held(app: string): number {
    let n = 0;
    for (const c of containers.values()) if (c.app === app && c.exit === null) n += c.held + c.holding.length;
    return n;
  },
};

function fresh(app: string, behaviour: StartBehaviour): FakeContainer {
  return {
    app,
    behaviour,
    exit: null,
    held: 0,
    received: [],
    answered: [],
    holding: [],
    unacked: new Map(),
    acked: [],
    connections: 0,
    peakHeld: 0,
    peakRunning: 0,
  };
}

function nextBehaviour(app: string): StartBehaviour {
  const script = scripts.get(app);
  const behaviour = script ? (script.starts.shift() ?? script.then) : "start_exits";
  attempts.set(app, [...(attempts.get(app) ?? []), behaviour]);
  return behaviour;
}

export class FakeBackend implements ComputeBackend {
  async start(id: string, env: Record<string, string>): Promise<void> {
    const app = env.SQUALL_APP ?? "";
    urls.set(app, [...(urls.get(app) ?? []), env.SQUALL_URL]);
    const behaviour = nextBehaviour(app);
    switch (behaviour) {
      case "capacity":
        throw capacityError("the fake platform has no room", FAKE_CAPACITY_RETRY_MS);
      case "unreachable":
        throw new Error("local container host at http://127.0.0.1:9 is not reachable (fetch failed); is `npm run dev` running?");
      case "dropped":
        throw new Error("local container host at http://127.0.0.1:9 is not reachable (Network connection lost.); is `npm run dev` running?");
      case "start_exits":
        containers.set(id, { ...fresh(app, behaviour), exit: "exited with code 2" });
        throw new ContainerFailedError(`container ${id} failed to start: runner exited with code 2 before listening: no containers run in this suite`);
    }
    containers.set(id, fresh(app, behaviour));
  }

  async stop(id: string): Promise<void> {
    const c = containers.get(id);
    if (c && c.exit === null) c.exit = "killed by SIGTERM";
  }

  async connect(id: string): Promise<WebSocket> {
    const c = containers.get(id);
    if (!c || c.exit !== null) throw new Error(`container ${id} is not running on the fake platform`);
    const pair = new WebSocketPair();
    const [pool, runner] = [pair[0], pair[1]];
    runner.accept();
    pool.accept();
    // Binary frames as ArrayBuffers (newer compatibility dates default to Blob), as the pool asks for its end.
    (runner as WebSocket & { binaryType: string }).binaryType = "arraybuffer";
    c.connections++;
    const reconnected = c.connections > 1;
    /** A `streams` runner's generators: input id -> how many values, how many sent, the credit, whether it throws at the end. */
    const generators = new Map<number, { n: number; sent: number; until: number; throws: boolean }>();
    const pumpValues = (reply: (m: RunnerToPool) => void): void => {
      for (const [id, g] of generators) {
        const items = [];
        for (; g.sent < Math.min(g.n, g.until); g.sent++) items.push({ id, seq: g.sent, value: encode(g.sent) });
        if (items.length > 0) reply({ t: "items", items });
        if (g.sent < g.n) continue;
        generators.delete(id);
        const end = g.throws ? encode({ name: "RangeError", message: `gave up after ${g.n}` }) : encode(g.n);
        reply({ t: "outputs", outputs: [{ id, status: g.throws ? "failure" : "success", value: end }] });
      }
    };
    const slots = queuesRunner(c, runner, (m) => runner.send(encode(m)));
    runner.addEventListener("message", (event) => {
      const message = decode<PoolToRunner>(new Uint8Array(event.data as ArrayBuffer));
      const reply = (m: RunnerToPool): void => {
        if (m.t === "outputs" && c.behaviour === "keeps") for (const o of m.outputs) c.unacked.set(o.id, o);
        runner.send(encode(m));
      };
      if (message.t === "ack") {
        c.acked.push(...message.ids);
        for (const id of message.ids) c.unacked.delete(id);
      }
      if (c.behaviour === "queues") return slots(message);
      if (message.t === "stream_grants") {
        for (const grant of message.grants) {
          const g = generators.get(grant.id);
          if (g) g.until = Math.max(g.until, grant.until);
        }
        return pumpValues(reply);
      }
      if (message.t === "inputs" && (c.behaviour === "streams" || c.behaviour === "floods")) {
        for (const input of message.inputs) {
          const [n, throws = 0] = decode<number[]>(input.args);
          c.received.push(n);
          runs.set(`${c.app}/${n}`, [...(runs.get(`${c.app}/${n}`) ?? []), Date.now()]);
          if (c.behaviour === "floods") {
            const items = Array.from({ length: n }, (_, seq) => ({ id: input.id, seq, value: encode(seq) }));
            reply({ t: "items", items: [...items, { id: input.id, seq: 0, value: encode("again") }] });
            continue;
          }
          generators.set(input.id, { n, sent: 0, until: STREAM_WINDOW, throws: throws === 1 });
        }
        return pumpValues(reply);
      }
      if (message.t === "init") {
        if (c.behaviour === "exits_before_ready") {
          c.exit = "exited with code 3";
          runner.close(1011, "runner exited");
        } else if (c.behaviour === "init_failed") {
          reply({ t: "init_failed", error: { name: "Error", message: "this bundle only loads outside containers" } });
        } else if (c.behaviour === "resyncs" && reconnected) {
          const kept = c.holding.slice(0, Math.ceil(c.holding.length / 2));
          c.holding = [];
          c.behaviour = "ok";
          reply({ t: "ready", containerId: id, holding: kept.map((h) => h.id) });
          answerAll(
            kept.map((h) => ({ id: h.id, x: [h.x] })),
            reply,
          );
        } else if (c.behaviour === "keeps" && reconnected) {
          reply({ t: "ready", containerId: id, holding: [...c.unacked.keys()], running: [] });
          if (c.unacked.size > 0) reply({ t: "outputs", outputs: [...c.unacked.values()] });
        } else if (c.behaviour !== "never_ready") {
          reply({ t: "ready", containerId: id, holding: [] });
        }
      } else if (message.t === "inputs") {
        for (const input of message.inputs) {
          const [x] = decode<number[]>(input.args);
          c.received.push(x);
          runs.set(`${c.app}/${x}`, [...(runs.get(`${c.app}/${x}`) ?? []), Date.now()]);
          if (c.behaviour === "resyncs") c.holding.push({ id: input.id, x });
        }
        if (c.behaviour === "vanish") c.exit = "killed by SIGKILL";
        if (c.behaviour === "crash") {
          c.exit = "killed by SIGKILL";
          runner.close(1011, "runner killed");
        }
        if (c.behaviour === "hold") c.held += message.inputs.length;
        if (c.behaviour !== "ok" && c.behaviour !== "keeps" && c.behaviour !== "answers_then_crashes") return;
        answerAll(
          message.inputs.map((i) => ({ id: i.id, x: decode<number[]>(i.args) })),
          reply,
        );
        if (c.behaviour === "answers_then_crashes" && c.received.length >= 2) {
          c.exit = "killed by SIGKILL";
          runner.close(1011, "runner killed");
        }
      }
    });
    /** One input's answer as `ok` gives it: returned when due now, else sent once due (unless the container is gone by then). */
    const answer = (inputId: number, [x, delayMs = 0, failures = 0]: number[], reply: (m: RunnerToPool) => void): RunnerOutput | null => {
      const output = (): RunnerOutput => {
        if (fakeCompute.runs(c.app, x).length <= failures) {
          return { id: inputId, status: "failure", value: encode({ name: "RemoteError", message: `run ${x} failed on purpose` }) };
        }
        c.answered.push(x);
        return { id: inputId, status: "success", value: encode(x * x) };
      };
      if (delayMs === 0) return output();
      if (delayMs > 0) {
        setTimeout(() => {
          if (c.exit === null) reply({ t: "outputs", outputs: [output()] });
        }, delayMs);
      }
      return null;
    };
    const answerAll = (inputs: Array<{ id: number; x: number[] }>, reply: (m: RunnerToPool) => void): void => {
      const outputs = inputs.map((i) => answer(i.id, i.x, reply)).filter((o): o is RunnerOutput => o !== null);
      if (outputs.length > 0) reply({ t: "outputs", outputs });
    };
    return pool;
  }

  async describeExit(id: string): Promise<string | null> {
    return containers.get(id)?.exit ?? null;
  }
}

/** The `queues` runner: slots, a queue, and `started` for the inputs that waited (as sdk/src/runner/session.ts). */
function queuesRunner(c: FakeContainer, runner: WebSocket, reply: (m: RunnerToPool) => void): (message: PoolToRunner) => void {
  let maxInputs = 1;
  let blocked = false;
  const running = new Set<number>();
  const queue: Array<{ id: number; x: number; delayMs: number }> = [];
  const waiting = new Set<number>();
  /** Starts what fits; returns the ids of queued inputs that waited and started now. */
  const pump = (): number[] => {
    const started: number[] = [];
    while (!blocked && c.exit === null && running.size < maxInputs && queue.length > 0) {
      const input = queue.shift()!;
      if (waiting.delete(input.id)) started.push(input.id);
      running.add(input.id);
      c.peakRunning = Math.max(c.peakRunning, running.size);
      runs.set(`${c.app}/${input.x}`, [...(runs.get(`${c.app}/${input.x}`) ?? []), Date.now()]);
      if (input.delayMs === -2) {
        c.exit = "killed by SIGKILL";
        runner.close(1011, "runner killed");
      } else if (input.delayMs === -3) {
        blocked = true;
      } else if (input.delayMs >= 0) {
        setTimeout(() => {
          if (c.exit !== null || blocked || !running.delete(input.id)) return;
          c.answered.push(input.x);
          const startedNow = pump();
          reply({
            t: "outputs",
            outputs: [{ id: input.id, status: "success", value: encode(input.x * input.x) }],
            ...(startedNow.length ? { started: startedNow } : {}),
          });
        }, input.delayMs);
      }
    }
    return started;
  };
  return (message) => {
    // What reaches a blocked runner is still recorded as sent to it.
    if (blocked && message.t === "inputs") for (const input of message.inputs) c.received.push(decode<number[]>(input.args)[0]);
    if (blocked) return;
    if (message.t === "init") {
      maxInputs = message.maxInputs;
      reply({ t: "ready", containerId: message.containerId, holding: [...running, ...queue.map((q) => q.id)], running: [...running] });
    } else if (message.t === "inputs") {
      for (const input of message.inputs) {
        const [x, delayMs = 0] = decode<number[]>(input.args);
        c.received.push(x);
        queue.push({ id: input.id, x, delayMs });
      }
      c.peakHeld = Math.max(c.peakHeld, running.size + queue.length);
      pump();
      for (const q of queue) waiting.add(q.id);
    } else if (message.t === "cancel") {
      const ids = new Set(message.ids);
      for (let i = queue.length - 1; i >= 0; i--) if (ids.has(queue[i].id)) queue.splice(i, 1);
      for (const id of ids) running.delete(id);
      const started = pump();
      if (started.length > 0) reply({ t: "outputs", outputs: [], started });
    }
  };
}

// A ComputeBackend for pool-level tests inside workerd: each start does what
// the test scripted for its app (refuse for capacity, fail as the platform,
// fail as the container), and a container that starts is a fake runner at the
// end of a WebSocketPair speaking the runner protocol (init -> ready -> inputs
// -> outputs/ack). It lives in the pools' isolate, so tests script it directly.
import type { ComputeBackend } from "../../src/compute/backend";
import { ContainerFailedError } from "../../src/compute/backend";
import { capacityError } from "../../src/compute/capacity-errors";
import type { PoolToRunner, RunnerToPool } from "../../sdk/src/wire/protocol";
import { decode, encode } from "../../sdk/src/wire/serialization";

/**
 * What one start does:
 * - ok: the runner starts, says ready, and answers each input with its argument squared
 * - hold: as ok, but the runner keeps its inputs and never answers them
 * - vanish: as ok, but on its first inputs the process dies without its socket closing (a `docker kill`)
 * - capacity / unreachable / dropped: the platform refuses or fails the start
 * - start_exits: the host reports the runner exited before listening (the container's failure)
 * - exits_before_ready: the runner listens, then exits while loading the bundle
 * - init_failed: the bundle throws on import
 * - never_ready: the runner never answers init (startupTimeoutMs)
 */
export type StartBehaviour = "ok" | "hold" | "vanish" | "capacity" | "unreachable" | "dropped" | "start_exits" | "exits_before_ready" | "init_failed" | "never_ready";

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
}

/** Retry-after of the fake platform's capacity errors: short, so tests do not wait long. */
export const FAKE_CAPACITY_RETRY_MS = 200;

const scripts = new Map<string, Script>();
const containers = new Map<string, FakeContainer>();
/** Per app, each start attempt's behaviour in order. */
const attempts = new Map<string, StartBehaviour[]>();
/** Per app, the platform URL (SQUALL_URL) each start was given. */
const urls = new Map<string, string[]>();

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
  /** Inputs held by `app`'s running `hold` containers. */
  held(app: string): number {
    let n = 0;
    for (const c of containers.values()) if (c.app === app && c.exit === null) n += c.held;
    return n;
  },
};

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
        containers.set(id, { app, behaviour, exit: "exited with code 2", held: 0 });
        throw new ContainerFailedError(`container ${id} failed to start: runner exited with code 2 before listening: no containers run in this suite`);
    }
    containers.set(id, { app, behaviour, exit: null, held: 0 });
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
    runner.addEventListener("message", (event) => {
      const message = decode<PoolToRunner>(new Uint8Array(event.data as ArrayBuffer));
      const reply = (m: RunnerToPool): void => runner.send(encode(m));
      if (message.t === "init") {
        if (c.behaviour === "exits_before_ready") {
          c.exit = "exited with code 3";
          runner.close(1011, "runner exited");
        } else if (c.behaviour === "init_failed") {
          reply({ t: "init_failed", error: { name: "Error", message: "this bundle only loads outside containers" } });
        } else if (c.behaviour !== "never_ready") {
          reply({ t: "ready", containerId: id, holding: [] });
        }
      } else if (message.t === "inputs") {
        if (c.behaviour === "vanish") c.exit = "killed by SIGKILL";
        if (c.behaviour === "hold") c.held += message.inputs.length;
        if (c.behaviour !== "ok") return;
        reply({
          t: "outputs",
          outputs: message.inputs.map((input) => {
            const [x] = decode<[number]>(input.args);
            return { id: input.id, status: "success" as const, value: encode(x * x) };
          }),
        });
      }
    });
    return pool;
  }

  async describeExit(id: string): Promise<string | null> {
    return containers.get(id)?.exit ?? null;
  }
}

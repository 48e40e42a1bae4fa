// The production compute path without Cloudflare Containers: the Runner DO
// class on a fake `ctx.container` (as cloudflare/containers' own tests do)
// with real Durable Object storage, and CloudflareBackend on a fake Runner
// namespace that behaves like RPC (errors arrive as plain Errors).
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Runner } from "../../src/compute/runner-container";
import { CloudflareBackend, StartThrottle, type Clock } from "../../src/compute/cloudflare-backend";
import { capacityError, toCapacityError } from "../../src/compute/capacity-errors";
import { CapacityError, ContainerFailedError } from "../../src/compute/backend";
import type { Env } from "../../src/env";
import type { StateHost } from "./container-entry";

const { STATE_HOST } = env as unknown as { STATE_HOST: DurableObjectNamespace<StateHost> };

const NO_INSTANCE = "There is no Container instance available at this time.\nThis is likely because you have reached your max concurrent instance count.";
const MAX_INSTANCES = "Maximum number of running container instances exceeded. Try again later, or try configuring a higher value for max_instances";
const RATE_LIMITED = "You are requesting too many containers per second";

// ---------------------------------------------------------------------------
// A fake `ctx.container`: the surface @cloudflare/containers uses.

interface PortFetch {
  port: number;
  url: string;
  headers: Headers;
}

class FakeContainer implements Pick<Container, "running" | "start" | "monitor" | "signal" | "destroy"> {
  running = false;
  readonly starts: ContainerStartupOptions[] = [];
  readonly signals: number[] = [];
  destroyed = 0;
  readonly portFetches: PortFetch[] = [];
  /** Pings the port refuses ("not listening") after a start, before it answers. */
  pingsBeforeListening = 0;
  /** Whether SIGTERM makes the process exit (with code 0). */
  exitsOnSigterm = true;
  /** Thrown by `start()`, as the runtime does when it cannot admit a container. */
  startThrows: Error | null = null;
  /** The container dies right after `start()` and monitor() rejects with this. */
  diesOnStartWith: Error | null = null;
  /** Answers requests that reach the runner's port. */
  respond: (request: Request) => Response = () => new Response("ok");

  private exited: Promise<void> = Promise.resolve();
  private settleExit: (error?: Error) => void = () => {};

  start(options: ContainerStartupOptions): void {
    if (this.startThrows) throw this.startThrows;
    this.starts.push(options);
    this.running = true;
    this.exited = new Promise<void>((resolve, reject) => {
      this.settleExit = (error) => (error ? reject(error) : resolve());
    });
    // Whoever awaits monitor() handles the outcome; keep the stored promise from counting as unhandled.
    this.exited.catch(() => {});
    if (this.diesOnStartWith) this.exit(this.diesOnStartWith);
  }

  monitor(): Promise<void> {
    return this.exited;
  }

  signal(signo: number): void {
    this.signals.push(signo);
    if (signo === 15 && this.exitsOnSigterm) this.exit();
  }

  async destroy(): Promise<void> {
    this.destroyed++;
    this.exit(new Error("runtime signalled the container to exit: 9"));
  }

  /** The process ends: cleanly, or with the error monitor() rejects with. */
  exit(error?: Error): void {
    this.running = false;
    this.settleExit(error);
  }

  getTcpPort(port: number): { fetch: (input: string, init?: RequestInit) => Promise<Response> } {
    return {
      fetch: async (input, init) => {
        this.portFetches.push({ port, url: input, headers: new Headers(init?.headers) });
        if (!this.running || this.pingsBeforeListening-- > 0) throw new Error("the container is not listening");
        return this.respond(new Request(input, init));
      },
    };
  }
}

/**
 * The real DurableObjectState of a StateHost object with the fake container
 * in place of `ctx.container` (which Miniflare leaves undefined). It has to
 * be the real object: the DurableObject base class rejects look-alikes.
 */
function withContainer(state: DurableObjectState, container: FakeContainer): RunnerState {
  Object.defineProperty(state, "container", { value: container, configurable: true });
  return state as RunnerState;
}

type RunnerState = ConstructorParameters<typeof Runner>[0];

/** Runs `fn` inside the StateHost object `name` (a fresh one by default), on a Runner built over its storage. */
function withRunner<T>(fn: (runner: Runner, container: FakeContainer) => Promise<T>, name: string = crypto.randomUUID()): Promise<T> {
  const stub = STATE_HOST.get(STATE_HOST.idFromName(name));
  return runInDurableObject(stub, async (_host, state) => {
    const container = new FakeContainer();
    return fn(new Runner(withContainer(state, container), {} as Env), container);
  });
}

/** Closes `local` and waits until the far end `remote` has seen the close (and answers it). */
async function closeHandshake(local: WebSocket, remote: WebSocket): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    remote.addEventListener("close", () => {
      remote.close();
      resolve();
    });
  });
  local.close(1000, "done");
  await closed;
}

const ENV = { SQUALL_CONTAINER_ID: "c-1", SQUALL_CONTAINER_SECRET: "s3cret" };

describe("Runner", () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  /** @cloudflare/containers logs every container error it reports to onError ("Container error: ..."). */
  function quietContainerErrors(): void {
    vi.spyOn(console, "error").mockImplementation(() => {});
  }

  it("starts the container with the pool's env vars and internet access, and waits for the runner's port", async () => {
    await withRunner(async (runner, container) => {
      container.pingsBeforeListening = 2;
      await runner.startRunner(ENV);

      expect(container.starts).toEqual([{ enableInternet: true, env: ENV }]);
      expect(container.running).toBe(true);
      const pings = container.portFetches;
      expect(pings.every((p) => p.port === 8080)).toBe(true);
      // Refused twice, then answered on the health route.
      expect(pings.length).toBeGreaterThanOrEqual(3);
      expect(pings.at(-1)?.url).toBe("http://runner/healthz");
    });
  });

  it("is idempotent while running with the same env vars, and refuses different ones", async () => {
    await withRunner(async (runner, container) => {
      await runner.startRunner(ENV);
      await runner.startRunner({ ...ENV });
      expect(container.starts).toHaveLength(1);

      await expect(runner.startRunner({ ...ENV, SQUALL_CONTAINER_SECRET: "other" })).rejects.toThrow(/already running with different env vars/);
      expect(container.starts).toHaveLength(1);
    });
  });

  it("starts again after the container has exited", async () => {
    await withRunner(async (runner, container) => {
      await runner.startRunner(ENV);
      container.exit();
      await runner.startRunner({ ...ENV, SQUALL_CONTAINER_SECRET: "next" });
      expect(container.starts.map((s) => s.env?.SQUALL_CONTAINER_SECRET)).toEqual(["s3cret", "next"]);
    });
  });

  it("stops with SIGTERM and records the exit", async () => {
    await withRunner(async (runner, container) => {
      await runner.startRunner(ENV);
      await runner.stopRunner();

      expect(container.signals).toEqual([15]);
      expect(container.destroyed).toBe(0);
      expect(container.running).toBe(false);
      expect(await runner.exitInfo()).toBe("exited with code 0");
    });
  });

  it("kills a container that ignores SIGTERM after the grace period", async () => {
    await withRunner(async (runner, container) => {
      await runner.startRunner(ENV);
      container.exitsOnSigterm = false;

      vi.useFakeTimers();
      const stopped = runner.stopRunner();
      await vi.advanceTimersByTimeAsync(9_000);
      expect(container.destroyed).toBe(0);
      await vi.advanceTimersByTimeAsync(2_000);
      await stopped;

      expect(container.signals).toEqual([15]);
      expect(container.destroyed).toBe(1);
      expect(container.running).toBe(false);
    });
  });

  it("stopping a runner that is not running does nothing", async () => {
    await withRunner(async (runner, container) => {
      await runner.stopRunner();
      expect(container.signals).toEqual([]);
      expect(container.destroyed).toBe(0);
    });
  });

  it.each([
    ["no instance available", new Error(NO_INSTANCE), 5_000],
    ["no instance can be provided", new Error("There is no container instance that can be provided to this Durable Object, try again later"), 5_000],
    ["max_instances reached", new Error(MAX_INSTANCES), 10_000],
    ["start rate limited (429)", Object.assign(new Error("Too Many Requests"), { status: 429 }), 1_000],
  ])("turns a capacity error (%s) into CapacityError with a retry-after", async (_name, platformError, retryAfterMs) => {
    await withRunner(async (runner, container) => {
      container.startThrows = platformError;
      const error = await runner.startRunner(ENV).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CapacityError);
      expect((error as CapacityError).retryAfterMs).toBe(retryAfterMs);
      expect((error as CapacityError).message).toContain(platformError.message);
    });
  });

  it("turns the library's start-rate failure (the container dies as it starts) into CapacityError", async () => {
    quietContainerErrors();
    await withRunner(async (runner, container) => {
      container.diesOnStartWith = new Error(RATE_LIMITED);
      const error = await runner.startRunner(ENV).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CapacityError);
      expect((error as CapacityError).retryAfterMs).toBe(1_000);
    });
  });

  it("rethrows other start errors unchanged and records them as the exit reason", async () => {
    quietContainerErrors();
    await withRunner(async (runner, container) => {
      const failure = new Error("image not found: squall-runner:latest");
      container.startThrows = failure;
      await expect(runner.startRunner(ENV)).rejects.toBe(failure);

      container.startThrows = null;
      container.diesOnStartWith = new Error("container supervisor failed");
      const error = await runner.startRunner(ENV).catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(CapacityError);
      expect(await runner.exitInfo()).toBe("failed: container supervisor failed");
    });
  });

  it("destroys a container whose runner never listens, and fails the start", async () => {
    quietContainerErrors();
    await withRunner(async (runner, container) => {
      container.pingsBeforeListening = Infinity;
      vi.useFakeTimers();
      const started = runner.startRunner(ENV).catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(31_000);
      const error = await started;

      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(CapacityError);
      expect(container.destroyed).toBe(1);
      expect(container.running).toBe(false);
    });
  });

  it("keeps the last exit reason in storage, across instances of the object", async () => {
    const name = crypto.randomUUID();
    await withRunner(async (runner, container) => {
      await runner.startRunner(ENV);
      container.exit(new Error("container exited with unexpected exit code: 1"));
      // The library reports exits from its alarm loop.
      await vi.waitFor(async () => {
        await runner.alarm();
        expect(await runner.exitInfo()).toBe("exited with code 1");
      });
    }, name);
    await withRunner(async (runner) => expect(await runner.exitInfo()).toBe("exited with code 1"), name);
  });

  it("reports a started container that stopped running without a seen exit as gone", async () => {
    await withRunner(async (runner, container) => {
      await runner.startRunner(ENV);
      expect(await runner.exitInfo()).toBeNull();
      // The container vanished (docker kill, a lost host): its monitor never settled, so onStop never ran.
      container.running = false;
      expect(await runner.exitInfo()).toBe("is no longer running");
    });
  });

  it("has no exit reason before the container has run", async () => {
    await withRunner(async (runner) => expect(await runner.exitInfo()).toBeNull());
  });

  it("proxies the pool's WebSocket on /connect to the runner's port", async () => {
    await withRunner(async (runner, container) => {
      const runnerSide = new WebSocketPair();
      const received: string[] = [];
      runnerSide[1].accept();
      runnerSide[1].addEventListener("message", (event) => {
        received.push(String(event.data));
      });
      container.respond = () => new Response(null, { status: 101, webSocket: runnerSide[0] });
      await runner.startRunner(ENV);

      const response = await runner.fetch(new Request("http://runner/connect", { headers: { Upgrade: "websocket", Authorization: "Bearer s3cret" } }));
      const ws = response.webSocket;
      expect(response.status).toBe(101);
      expect(ws).not.toBeNull();
      ws?.accept();
      ws?.send("hello runner");
      await vi.waitFor(() => expect(received).toEqual(["hello runner"]));

      const connect = container.portFetches.at(-1);
      expect(connect?.url).toBe("http://runner/connect");
      expect(connect?.headers.get("Authorization")).toBe("Bearer s3cret");
      if (ws) await closeHandshake(ws, runnerSide[1]);
    });
  });

  it("answers 503 to requests while not running, instead of starting a container without env vars", async () => {
    await withRunner(async (runner, container) => {
      const response = await runner.fetch(new Request("http://runner/connect", { headers: { Upgrade: "websocket" } }));
      expect(response.status).toBe(503);
      expect(await response.text()).toBe("runner is not running");
      expect(container.starts).toEqual([]);
    });
  });
});

// ---------------------------------------------------------------------------

describe("toCapacityError", () => {
  it("recognises the library's own no-instance error, also as another error's cause", () => {
    const libraryError = new Error("there is no container instance that can be provided to this durable object", {
      cause: new Error("Network connection lost"),
    });
    expect(toCapacityError(libraryError)?.retryAfterMs).toBe(5_000);
    expect(toCapacityError(new Error("start failed", { cause: new Error(MAX_INSTANCES) }))?.retryAfterMs).toBe(10_000);
  });

  it("recognises errors from another realm (not instanceof Error)", () => {
    expect(toCapacityError({ message: RATE_LIMITED })?.retryAfterMs).toBe(1_000);
  });

  it("rebuilds a CapacityError that RPC flattened into a plain Error", () => {
    const original = capacityError(MAX_INSTANCES, 10_000);
    const rebuilt = toCapacityError(new Error(original.message));
    expect(rebuilt).toBeInstanceOf(CapacityError);
    expect(rebuilt?.retryAfterMs).toBe(10_000);
    expect(rebuilt?.message).toBe(original.message);
  });

  it("leaves other errors alone", () => {
    expect(toCapacityError(new Error("container exited with unexpected exit code: 1"))).toBeNull();
    expect(toCapacityError("boom")).toBeNull();
  });
});

// ---------------------------------------------------------------------------
// CloudflareBackend on a fake Runner namespace and a manual clock.

/** Virtual time: sleeps resolve only when `run` moves the clock to them. */
class ManualClock implements Clock {
  private time = 0;
  private timers: Array<{ at: number; resolve: () => void }> = [];

  now(): number {
    return this.time;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.timers.push({ at: this.time + ms, resolve }));
  }

  /** Lets `promise` run to completion, jumping the clock from timer to timer. */
  async run<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    const done = promise.finally(() => {
      settled = true;
    });
    done.catch(() => {});
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (settled) return done;
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers.shift();
      if (!next) throw new Error("stuck: the promise waits on something other than the clock");
      this.time = next.at;
      next.resolve();
    }
  }
}

/** Behaves like a Runner DO stub: errors cross "RPC" as plain Errors with only their message. */
class FakeRunners {
  readonly calls: Array<{ method: string; id: string; at: number }> = [];
  stubsMade = 0;
  /** Per start call, in order: an error to throw, or null to succeed. Empty: succeed. */
  startOutcomes: Array<Error | null> = [];
  respond: (request: Request) => Response = () => new Response("no", { status: 500 });
  exitInfo: string | null = null;
  lastRequest: Request | null = null;

  constructor(private readonly clock: Clock) {}

  idFromName(name: string): { name: string } {
    return { name };
  }

  get(id: { name: string }) {
    this.stubsMade++;
    const record = (method: string) => this.calls.push({ method, id: id.name, at: this.clock.now() });
    const rpc = async <T>(method: string, body: () => T): Promise<T> => {
      record(method);
      try {
        return body();
      } catch (error) {
        throw new Error((error as Error).message);
      }
    };
    return {
      startRunner: (_env: Record<string, string>) =>
        rpc("startRunner", () => {
          const outcome = this.startOutcomes.shift();
          if (outcome) throw outcome;
        }),
      stopRunner: () => rpc("stopRunner", () => undefined),
      exitInfo: () => rpc("exitInfo", () => this.exitInfo),
      fetch: async (request: Request) => {
        record("fetch");
        this.lastRequest = request;
        return this.respond(request);
      },
    };
  }

  startTimes(): number[] {
    return this.calls.filter((c) => c.method === "startRunner").map((c) => c.at);
  }
}

function backendWith(options: { startsPerSecond?: number; startBurst?: number; maxCapacityWaitMs?: number } = {}) {
  const clock = new ManualClock();
  const runners = new FakeRunners(clock);
  const backend = new CloudflareBackend(runners as unknown as DurableObjectNamespace<Runner>, { clock, ...options });
  return { clock, runners, backend };
}

describe("CloudflareBackend", () => {
  it("staggers starts: a burst at once, then no more than startsPerSecond", async () => {
    const { clock, runners, backend } = backendWith({ startsPerSecond: 10, startBurst: 3 });
    await clock.run(Promise.all(Array.from({ length: 6 }, (_, i) => backend.start(`c-${i}`, ENV))));
    expect(runners.startTimes()).toEqual([0, 0, 0, 100, 200, 300]);
  });

  it("retries capacity errors with exponential backoff, honouring the retry-after", async () => {
    const { clock, runners, backend } = backendWith();
    runners.startOutcomes = [new Error(RATE_LIMITED), new Error(RATE_LIMITED), new Error(RATE_LIMITED), capacityError(MAX_INSTANCES, 10_000), null];
    await clock.run(backend.start("c-1", ENV));
    // Waits 1 s, 2 s, 4 s (rate limit: retry-after 1 s), then 10 s (max_instances' retry-after beats the 8 s backoff).
    expect(runners.startTimes()).toEqual([0, 1_000, 3_000, 7_000, 17_000]);
    // A fresh stub per attempt.
    expect(runners.stubsMade).toBe(5);
  });

  it("gives up with CapacityError once the next retry would pass maxCapacityWaitMs", async () => {
    const { clock, runners, backend } = backendWith({ maxCapacityWaitMs: 20_000 });
    runners.startOutcomes = Array.from({ length: 10 }, () => new Error(NO_INSTANCE));
    const error = await clock.run(backend.start("c-1", ENV)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CapacityError);
    expect((error as CapacityError).retryAfterMs).toBe(5_000);
    // Waits max(backoff, 5 s): 5, 5, 5 s; the next wait (8 s) would end at 23 s.
    expect(runners.startTimes()).toEqual([0, 5_000, 10_000, 15_000]);
  });

  it("rethrows other start errors at once", async () => {
    const { clock, runners, backend } = backendWith();
    runners.startOutcomes = [new Error("image not found")];
    runners.exitInfo = "stopped by the platform (exit code 137)";
    const error = await clock.run(backend.start("c-1", ENV)).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(CapacityError);
    expect((error as Error).message).toBe("image not found");
    expect(runners.startTimes()).toEqual([0]);
  });

  it("tells the container's own failures to start (ContainerFailedError) from the platform's", async () => {
    const { clock, runners, backend } = backendWith();
    // The container exited as it started: the library says so, and the Runner recorded the exit.
    runners.startOutcomes = [new Error("Container exited before we could determine the container health, exit code: 3")];
    runners.exitInfo = "exited with code 3";
    const exited = await clock.run(backend.start("c-1", ENV)).catch((e: unknown) => e);
    expect(exited).toBeInstanceOf(ContainerFailedError);
    expect((exited as Error).message).toBe("container c-1 failed to start: exited with code 3");
    // It crashed while its port was checked: only the Runner's record says so.
    runners.startOutcomes = [new Error("Network connection lost.")];
    runners.exitInfo = "failed: Container crashed while checking for ports, did you start the container and setup the entrypoint correctly?";
    expect(await clock.run(backend.start("c-2", ENV)).catch((e: unknown) => e)).toBeInstanceOf(ContainerFailedError);
    // An RPC failure with no exit recorded stays the platform's.
    runners.startOutcomes = [new Error("Network connection lost.")];
    runners.exitInfo = null;
    const lost = await clock.run(backend.start("c-3", ENV)).catch((e: unknown) => e);
    expect(lost).not.toBeInstanceOf(ContainerFailedError);
    expect((lost as Error).message).toBe("Network connection lost.");
  });

  it("addresses each container's Runner by its id", async () => {
    const { clock, runners, backend } = backendWith();
    runners.exitInfo = "exited with code 1";
    await clock.run(backend.start("c-7", ENV));
    await backend.stop("c-7");
    expect(await backend.describeExit("c-7")).toBe("exited with code 1");
    expect(runners.calls.map((c) => `${c.method} ${c.id}`)).toEqual(["startRunner c-7", "stopRunner c-7", "exitInfo c-7"]);
  });

  it("connects: upgrades /connect with the container secret and returns the accepted WebSocket", async () => {
    const { runners, backend } = backendWith();
    const pair = new WebSocketPair();
    pair[1].accept();
    const received: string[] = [];
    pair[1].addEventListener("message", (event) => {
      received.push(String(event.data));
    });
    runners.respond = () => new Response(null, { status: 101, webSocket: pair[0] });

    const ws = await backend.connect("c-1", "s3cret");
    ws.send("hi");
    await vi.waitFor(() => expect(received).toEqual(["hi"]));

    const request = runners.lastRequest;
    expect(request && new URL(request.url).pathname).toBe("/connect");
    expect(request?.headers.get("Upgrade")).toBe("websocket");
    expect(request?.headers.get("Authorization")).toBe("Bearer s3cret");
    await closeHandshake(ws, pair[1]);
  });

  it("connect fails clearly when the runner answers without a WebSocket", async () => {
    const { runners, backend } = backendWith();
    runners.respond = () => new Response("runner is not running", { status: 503 });
    await expect(backend.connect("c-1", "s3cret")).rejects.toThrow("runner of container c-1 refused the connection: HTTP 503 runner is not running");
  });
});

describe("StartThrottle", () => {
  it("refills over time: after a quiet spell the burst is available again", async () => {
    const clock = new ManualClock();
    const throttle = new StartThrottle(2, 2, clock);
    const sentAt: number[] = [];
    const send = async () => {
      await throttle.acquire();
      sentAt.push(clock.now());
    };
    await clock.run(Promise.all([send(), send(), send()]));
    await clock.run(clock.sleep(5_000));
    await clock.run(Promise.all([send(), send(), send()]));
    expect(sentAt).toEqual([0, 0, 500, 5_500, 5_500, 6_000]);
  });
});

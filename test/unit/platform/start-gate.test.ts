// The start gate: which failed starts count toward the breaker, how the
// platform's errors back off, and how many starts one pool has out at once.
import { describe, it, expect } from "vitest";
import { StartGate, classifyStartError, MAX_STARTS_IN_FLIGHT } from "../../../src/pool/start-gate";
import { ContainerFailedError } from "../../../src/compute/backend";
import { capacityError } from "../../../src/compute/capacity-errors";

const capacity = (retryAfterMs: number) => ({ kind: "capacity" as const, message: "host full", retryAfterMs });
const platform = (message = "host unreachable") => ({ kind: "platform" as const, message });

describe("start gate", () => {
  it("trips on the third container failure in a row, then holds starts for the cooldown and counts afresh", () => {
    const gate = new StartGate({ cooldownMs: 30_000 });
    expect(gate.containerFailed("init_failed", 0)).toBe(false);
    expect(gate.containerFailed("exited with code 3", 0)).toBe(false);
    expect(gate.allowed(5, 0)).toBe(5);
    expect(gate.containerFailed("startup timeout", 1_000)).toBe(true);
    expect(gate.heldBack(1_000)).toEqual({ reason: "start_failures", message: "startup timeout", untilMs: 31_000 });
    expect(gate.allowed(5, 30_999)).toBe(0);
    expect(gate.allowed(5, 31_000)).toBe(5);
    expect(gate.containerFailed("again", 31_000)).toBe(false);
  });

  it("forgets container failures once a container is ready", () => {
    const gate = new StartGate();
    gate.containerFailed("a", 0);
    gate.containerFailed("b", 0);
    gate.ready();
    expect(gate.containerFailed("c", 0)).toBe(false);
    expect(gate.containerFailed("d", 0)).toBe(false);
    expect(gate.containerFailed("e", 0)).toBe(true);
  });

  it("never trips on platform errors, however many, and backs off exponentially with jitter up to the cap", () => {
    const randoms = [0, 1, 0.5, 0, 0, 0, 0, 0];
    const gate = new StartGate({ random: () => randoms.shift() ?? 0, initialBackoffMs: 1_000, maxBackoffMs: 8_000 });
    const waits: number[] = [];
    let now = 0;
    for (let i = 0; i < 6; i++) {
      const line = gate.platformFailed(platform(), now);
      const held = gate.heldBack(now)!;
      expect(held.reason).toBe("platform_error");
      expect(line).toMatch(/platform error\), retrying in \d+ ms: host unreachable/);
      waits.push(held.untilMs - now);
      now = held.untilMs;
    }
    // Ceilings 1, 2, 4, 8, 8, 8 s; each wait is half its ceiling plus a random share of the other half.
    expect(waits).toEqual([500, 2_000, 3_000, 4_000, 4_000, 4_000]);
    expect(gate.containerFailed("one of ours", now)).toBe(false);
  });

  it("a started container ends the platform backoff; a ready one, any hold", () => {
    const gate = new StartGate({ random: () => 0 });
    for (let i = 0; i < 4; i++) gate.platformFailed(platform(), 0);
    gate.platformAccepted();
    expect(gate.heldBack(0)).toBeNull();
    gate.platformFailed(platform(), 0);
    expect(gate.heldBack(0)?.untilMs).toBe(500); // back to the first step
  });

  it("waits what a capacity error asks, keeps a longer hold, and logs once per hold", () => {
    const gate = new StartGate();
    expect(gate.platformFailed(capacity(2_000), 0)).toMatch(/no room for containers, retrying in 2000 ms: host full/);
    expect(gate.platformFailed(capacity(500), 100)).toBeNull();
    expect(gate.heldBack(100)).toEqual({ reason: "capacity", message: "host full", untilMs: 2_000 });
    expect(gate.allowed(3, 1_999)).toBe(0);
    expect(gate.heldBack(2_000)).toBeNull();
    expect(gate.allowed(3, 2_000)).toBe(3);
  });

  it("lets at most maxStartsInFlight requests out at once", () => {
    const gate = new StartGate();
    expect(gate.allowed(100, 0)).toBe(MAX_STARTS_IN_FLIGHT);
    for (let i = 0; i < MAX_STARTS_IN_FLIGHT; i++) gate.requested();
    expect(gate.allowed(100, 0)).toBe(0);
    gate.settled();
    gate.settled();
    expect(gate.allowed(100, 0)).toBe(2);
    expect(gate.allowed(1, 0)).toBe(1);
  });

  it("a new deployment starts with a clean slate", () => {
    const gate = new StartGate();
    gate.containerFailed("a", 0);
    gate.containerFailed("b", 0);
    gate.containerFailed("c", 0);
    gate.reset();
    expect(gate.heldBack(0)).toBeNull();
    expect(gate.containerFailed("d", 0)).toBe(false);
  });
});

describe("classifying a failed start", () => {
  const noExit = async () => null;

  it("capacity errors, also flattened by RPC, are capacity", async () => {
    expect(await classifyStartError(capacityError("host full", 2_000), noExit)).toEqual({
      kind: "capacity",
      message: "host full (capacity; retry after 2000 ms)",
      retryAfterMs: 2_000,
    });
    expect(await classifyStartError(new Error("There is no Container instance available at this time"), noExit)).toMatchObject({
      kind: "capacity",
      retryAfterMs: 5_000,
    });
  });

  it("a ContainerFailedError, or any error while the container has exited, is the container's", async () => {
    expect(await classifyStartError(new ContainerFailedError("runner exited with code 2 before listening"), noExit)).toEqual({
      kind: "container",
      message: "runner exited with code 2 before listening",
    });
    expect(await classifyStartError(new Error("refused the connection"), async () => "exited with code 1")).toEqual({
      kind: "container",
      message: "refused the connection; the container exited with code 1",
    });
  });

  it("anything else is the platform's, also when asking about the container fails", async () => {
    const unreachable = new Error("local container host at http://127.0.0.1:9 is not reachable (Network connection lost.)");
    expect(await classifyStartError(unreachable, noExit)).toEqual({ kind: "platform", message: unreachable.message });
    expect(await classifyStartError(unreachable, () => Promise.reject(new Error("still unreachable")))).toMatchObject({ kind: "platform" });
  });
});

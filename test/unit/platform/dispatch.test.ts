import { describe, it, expect } from "vitest";
import { planDispatch, type DispatchContainer, type DispatchLimits } from "../../../src/pool/dispatch";

const limits = (targetInputs: number, maxInputs: number, maxContainers: number | null = null, queuedInputs = 0): DispatchLimits => ({
  targetInputs,
  maxInputs,
  maxContainers,
  queuedInputs,
});
const ct = (id: string, running: number): DispatchContainer => ({ id, running });

describe("dispatch policy", () => {
  it("fills containers up to targetInputs before any bursts to maxInputs", () => {
    const grants = planDispatch([ct("a", 0), ct("b", 0)], limits(2, 4), 6);
    expect(grants).toEqual([
      { containerId: "a", inputs: 2, queued: false },
      { containerId: "b", inputs: 2, queued: false },
      { containerId: "a", inputs: 2, queued: false },
    ]);
  });

  it("bursts to maxInputs when the backlog is larger than every container at target", () => {
    const grants = planDispatch([ct("a", 0), ct("b", 0)], limits(1, 3), 100);
    expect(grants).toEqual([
      { containerId: "a", inputs: 1, queued: false },
      { containerId: "b", inputs: 1, queued: false },
      { containerId: "a", inputs: 2, queued: false },
      { containerId: "b", inputs: 2, queued: false },
    ]);
  });

  it("feeds the busiest container first, so spare ones go idle", () => {
    const grants = planDispatch([ct("idle", 0), ct("busy", 3), ct("some", 1)], limits(4, 4), 3);
    expect(grants).toEqual([
      { containerId: "busy", inputs: 1, queued: false },
      { containerId: "some", inputs: 2, queued: false },
    ]);
  });

  it("feeds only the busiest maxContainers, backlog or not", () => {
    const grants = planDispatch([ct("a", 0), ct("b", 2), ct("c", 1)], limits(4, 4, 2), 100);
    expect(grants).toEqual([
      { containerId: "b", inputs: 2, queued: false },
      { containerId: "c", inputs: 3, queued: false },
    ]);
  });

  it("grants nothing to full containers, and nothing without pending inputs", () => {
    expect(planDispatch([ct("a", 4)], limits(2, 4), 10)).toEqual([]);
    expect(planDispatch([ct("a", 0)], limits(2, 4), 0)).toEqual([]);
    expect(planDispatch([], limits(2, 4), 10)).toEqual([]);
  });

  it("never grants more than maxInputs when targetInputs equals it (one pass)", () => {
    expect(planDispatch([ct("a", 1)], limits(3, 3), 10)).toEqual([{ containerId: "a", inputs: 2, queued: false }]);
  });

  it("sends queuedInputs more to each full container, marked as queued, once every slot is taken", () => {
    const grants = planDispatch([ct("a", 0), ct("b", 1)], limits(1, 1, null, 2), 100);
    expect(grants).toEqual([
      { containerId: "a", inputs: 1, queued: false },
      { containerId: "b", inputs: 2, queued: true },
      { containerId: "a", inputs: 2, queued: true },
    ]);
  });

  it("queues nothing while a slot is free, and nothing beyond the backlog", () => {
    expect(planDispatch([ct("a", 0), ct("b", 0)], limits(2, 4, null, 8), 6)).toEqual([
      { containerId: "a", inputs: 2, queued: false },
      { containerId: "b", inputs: 2, queued: false },
      { containerId: "a", inputs: 2, queued: false },
    ]);
    expect(planDispatch([ct("a", 4)], limits(4, 4, null, 8), 3)).toEqual([{ containerId: "a", inputs: 3, queued: true }]);
  });

  it("tops up a container's queue without exceeding maxInputs + queuedInputs, and only for the busiest maxContainers", () => {
    expect(planDispatch([ct("a", 3), ct("b", 2), ct("c", 0)], limits(1, 1, 2, 2), 100)).toEqual([{ containerId: "b", inputs: 1, queued: true }]);
  });

  it("tops up a queue by at least half of queuedInputs at a time, or by what is left of the backlog", () => {
    expect(planDispatch([ct("a", 6)], limits(1, 1, null, 8), 100)).toEqual([]);
    expect(planDispatch([ct("a", 5)], limits(1, 1, null, 8), 100)).toEqual([{ containerId: "a", inputs: 4, queued: true }]);
    expect(planDispatch([ct("a", 6)], limits(1, 1, null, 8), 2)).toEqual([{ containerId: "a", inputs: 2, queued: true }]);
  });

  it("does not change its argument", () => {
    const ready = [ct("a", 0), ct("b", 1)];
    planDispatch(ready, limits(2, 4), 10);
    expect(ready).toEqual([ct("a", 0), ct("b", 1)]);
  });
});

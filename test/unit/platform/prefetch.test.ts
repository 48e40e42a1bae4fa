import { describe, it, expect } from "vitest";
import { InputPace, PACE_MIN_SAMPLES, PREFETCH_MIN_CAP, PREFETCH_PER_SLOT, PREFETCH_QUEUE_MS } from "../../../src/pool/prefetch";

const paceOf = (runMs: number, samples = PACE_MIN_SAMPLES): InputPace => {
  const pace = new InputPace();
  for (let i = 0; i < samples; i++) pace.observe(runMs);
  return pace;
};

describe("inputs sent ahead of free slots", () => {
  it("sends none until it has seen enough inputs finish", () => {
    expect(paceOf(1, PACE_MIN_SAMPLES - 1).queuedInputs(1)).toBe(0);
    expect(paceOf(1).queuedInputs(1)).toBeGreaterThan(0);
  });

  it("queues about PREFETCH_QUEUE_MS of work per container, counted across its slots", () => {
    expect(PREFETCH_QUEUE_MS).toBe(50);
    expect(paceOf(25).queuedInputs(1)).toBe(2);
    expect(paceOf(25).queuedInputs(10)).toBe(20); // 10 slots work through 20 in 50 ms
    expect(paceOf(PREFETCH_QUEUE_MS + 1).queuedInputs(1)).toBe(0);
    expect(paceOf(1_000).queuedInputs(100)).toBe(5);
  });

  it("never queues more than PREFETCH_MIN_CAP, or PREFETCH_PER_SLOT per slot if that is more", () => {
    expect(PREFETCH_PER_SLOT).toBe(4);
    expect(paceOf(0).queuedInputs(1)).toBe(PREFETCH_MIN_CAP);
    expect(paceOf(0).queuedInputs(8)).toBe(PREFETCH_MIN_CAP);
    expect(paceOf(0.1).queuedInputs(100)).toBe(400);
    expect(paceOf(2).queuedInputs(100)).toBe(400);
    expect(paceOf(20).queuedInputs(100)).toBe(250); // 50 ms of 20 ms inputs on 100 slots
  });

  it("follows a change of pace, and ignores nonsense samples", () => {
    const pace = paceOf(1);
    for (let i = 0; i < 60; i++) pace.observe(500);
    expect(pace.queuedInputs(1)).toBe(0);
    pace.observe(Number.NaN);
    pace.observe(-5);
    expect(pace.queuedInputs(1)).toBe(0);
  });
});

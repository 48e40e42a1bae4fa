// The pool's one source of the time: injected, so tests can drive it, and
// every module of the pool reads the same clock.
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

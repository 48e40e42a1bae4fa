// The function bodies every side of the benchmark runs: the Squall app
// (bench/apps/bench.ts), the BullMQ worker and the directly driven runner
// (which runs the same Squall app bundle). Keep them identical everywhere.

/** Workloads 1, 2 and 4: returns its input, nothing else. */
export async function noopBody(x: number): Promise<number> {
  return x;
}

/** Workload 3 (10 ms) and 5 (2 s): an I/O wait, then returns its input. */
export async function sleepBody(x: number, ms: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return x;
}

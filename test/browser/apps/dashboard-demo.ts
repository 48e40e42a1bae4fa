// The app the browser tests deploy: slow enough that a map needs several
// containers, with a short scale-down window so they go again quickly.
import { App } from "squall";

export const app = new App("dashboard-demo");

class UnluckyNumberError extends Error {
  override name = "UnluckyNumberError";
}

export const slowSquare = app.function({ maxContainers: 3, scaledownWindowMs: 2_000 }, async function slowSquare(x: number) {
  await new Promise((resolve) => setTimeout(resolve, 300));
  // 17 is the unlucky number in Italy; it comes late in the map, so the failed call is among the most recent.
  if (x === 17) throw new UnluckyNumberError(`${x} is unlucky`);
  return x * x;
});

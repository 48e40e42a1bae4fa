// Time-based scaling, two ways.
//
// 1. The seed's pattern: scheduled functions that change another function's
//    warm pool through the SDK (each run boots a container to do it).
// 2. Declarative: a scalingSchedule the platform applies by itself at those
//    times, with no container started for it.
//
//   npx squall deploy examples/time-based.ts
//   npx squall schedule list time-based
import { App, Cron } from "squall";

export const app = new App("time-based");

export const inferenceServer = app.function({ scaledownWindowMs: 60_000 }, async function inferenceServer(x: number) {
  return x * 2;
});

export const increaseWarmPool = app.function({ schedule: new Cron("0 6 * * *", { timezone: "America/New_York" }) }, async function increaseWarmPool() {
  await inferenceServer.updateAutoscaler({ minContainers: 4 });
});

export const decreaseWarmPool = app.function({ schedule: new Cron("0 22 * * *", { timezone: "America/New_York" }) }, async function decreaseWarmPool() {
  await inferenceServer.updateAutoscaler({ minContainers: 0 });
});

export const daytimeServer = app.function(
  {
    scalingSchedule: [
      { cron: "0 6 * * *", timezone: "America/New_York", set: { minContainers: 2 } },
      { cron: "0 22 * * *", timezone: "America/New_York", set: { minContainers: 0 } },
    ],
  },
  async function daytimeServer(x: number) {
    return x * 2;
  },
);

app.localEntrypoint(async () => {
  const stats = await daytimeServer.getCurrentStats();
  console.log(
    `daytimeServer: minContainers ${stats.autoscaler.minContainers} (from ${stats.autoscalerSources?.minContainers ?? "declared"}),`,
    `${stats.containers.total} containers now`,
  );
  console.log("inferenceServer(21) =", await inferenceServer.remote(21));
});

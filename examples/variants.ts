// Per-handle options: one function, run with other limits without redeploying.
// `withOptions` and `withConcurrency` return a handle of the same function
// whose calls run in a pool of their own (a variant), leaving the function's
// own pool and settings alone. Here one caller caps a backfill at one
// container serving four inputs at once, while interactive calls keep the
// function's declared pool.
//   npx squall run examples/variants.ts
import { App, InvalidError } from "squall";

export const app = new App("variants-example");

export const enrich = app.function({ maxContainers: 10, scaledownWindowMs: 5_000 }, async function enrich(id: number) {
  await new Promise((resolve) => setTimeout(resolve, 200));
  return { id, container: process.env.SQUALL_CONTAINER_ID };
});

app.localEntrypoint(async () => {
  const backfill = enrich.withOptions({ maxContainers: 1, timeoutMs: 60_000 }).withConcurrency({ maxInputs: 4 });
  const rows = await backfill.map(Array.from({ length: 12 }, (_, i) => i)).toArray();
  console.log(`backfill: ${rows.length} rows on ${new Set(rows.map((r) => r.container)).size} container`);

  const variant = await backfill.getCurrentStats();
  console.log(`variant [${variant.variant}]: maxContainers ${variant.autoscaler.maxContainers}, ${variant.containers.total} container`);
  const own = await enrich.getCurrentStats();
  console.log(`enrich's own pool: maxContainers ${own.autoscaler.maxContainers}, ${own.containers.total} containers`);

  // Live overrides on a variant change that variant only.
  await backfill.updateAutoscaler({ maxContainers: 2 });
  console.log(
    `after updateAutoscaler on the variant: variant ${(await backfill.getCurrentStats()).autoscaler.maxContainers}, own ${(await enrich.getCurrentStats()).autoscaler.maxContainers}`,
  );

  try {
    enrich.withOptions({ maxContainers: 0 });
  } catch (err) {
    if (err instanceof InvalidError) console.log(`refused: ${err.message}`);
  }
});

// Lookup by name (the seed's Client example): a client script that calls
// deployed functions and classes by name and overrides their autoscalers.
// It defines no functions of its own, so `squall run` deploys nothing and
// just runs the entrypoint.
//   npx squall deploy examples/autoscaling.ts     # the app it calls
//   npx squall run examples/lookup-by-name.ts
import { App, Client, type UnknownClass } from "squall";

export const app = new App("lookup-by-name");

const TARGET_APP = "autoscaling-example";

app.localEntrypoint(async () => {
  const client = new Client(); // SQUALL_URL / SQUALL_TOKEN, else the active profile in ~/.squall.toml
  const f = await client.functions.fromName<[number], number>(TARGET_APP, "evaluateModel");
  console.log(`evaluateModel(7) = ${await f.remote(7)}`);

  // Overrides merge field by field and last until the app's next deploy.
  await f.updateAutoscaler({ minContainers: 2, maxContainers: 10 });
  await f.updateAutoscaler({ minContainers: 4 }); // maxContainers: 10 still in effect
  const { autoscaler, autoscalerSources } = await f.getCurrentStats();
  console.log(
    `evaluateModel: minContainers ${autoscaler.minContainers} (${autoscalerSources?.minContainers}),`,
    `maxContainers ${autoscaler.maxContainers} (${autoscalerSources?.maxContainers})`,
  );

  // A class: each set of params is its own pool, with its own overrides.
  const M = await client.cls.fromName<{ modelVersion: string }, UnknownClass>(TARGET_APP, "Model");
  const m = M.instance({ modelVersion: "3.5" });
  console.log(`Model 3.5 predict(3) = ${await m.predict.remote(3)}`);
  await m.updateAutoscaler({ bufferContainers: 2 }); // this params instance only
  const other = M.instance({ modelVersion: "4.0" });
  console.log(
    `bufferContainers: Model 3.5 ${(await m.getCurrentStats()).autoscaler.bufferContainers},`,
    `Model 4.0 ${(await other.getCurrentStats()).autoscaler.bufferContainers}`,
  );

  // Back to a cold pool (a deploy of the app would revert every override too).
  await f.updateAutoscaler({ minContainers: 0 });
  await m.updateAutoscaler({ bufferContainers: 0 });
});

// Autoscaling configuration, dynamic updates and input concurrency.
//   npx squall run examples/autoscaling.ts
import { App } from "squall";

export const app = new App("autoscaling-example");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// A warm pool of 1, up to 8 containers, 1 extra while busy, idle containers stop after 5 s.
export const evaluateModel = app.function(
  { minContainers: 1, maxContainers: 8, bufferContainers: 1, scaledownWindowMs: 5_000 },
  async function evaluateModel(x: number) {
    await sleep(500);
    return x ** 2;
  },
);

// One container serves up to 20 inputs at once; the autoscaler plans for 10.
export const fetchPage = app.function({ concurrent: { maxInputs: 20, targetInputs: 10 }, maxContainers: 2 }, async function fetchPage(id: number) {
  await sleep(200); // stands in for network I/O
  return `page ${id}`;
});

// Each distinct set of params gets its own pool, with its own settings.
export const Model = app.cls(
  { scaledownWindowMs: 5_000 },
  class Model {
    constructor(readonly params: { modelVersion: string }) {}
    async enter() {
      await sleep(100); // load weights once per container
    }
    async predict(x: number) {
      return `${this.params.modelVersion}: ${x * 2}`;
    }
  },
);

app.localEntrypoint(async () => {
  const squares = await evaluateModel.map(Array.from({ length: 24 }, (_, i) => i)).toArray();
  console.log(`24 squares, sum ${squares.reduce((a, b) => a + b, 0)}`);

  const started = Date.now();
  const pages = await fetchPage.map(Array.from({ length: 100 }, (_, i) => i)).toArray();
  console.log(`${pages.length} pages in ${((Date.now() - started) / 1000).toFixed(1)} s with input concurrency`);

  await evaluateModel.updateAutoscaler({ minContainers: 2 });
  await evaluateModel.updateAutoscaler({ maxContainers: 4 }); // minContainers: 2 still in effect
  const stats = await evaluateModel.getCurrentStats();
  console.log(`evaluateModel now: min ${stats.autoscaler.minContainers}, max ${stats.autoscaler.maxContainers}`);

  const v35 = Model.instance({ modelVersion: "3.5" });
  console.log(await v35.predict.remote(21));
  await v35.updateAutoscaler({ bufferContainers: 1 }); // this instance only
  console.log(`Model 3.5 buffer: ${(await v35.getCurrentStats()).autoscaler.bufferContainers}`);
});

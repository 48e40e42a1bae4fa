// Workload 6, client side: a `.map` over BENCH_N inputs from a lazy
// generator, in a process of its own so its RSS is the SDK's alone.
// Reports { n, ms, startRssMb, peakRssMb, samples: [ms, rssMb][] } to the
// parent over IPC.
import { Client } from "../../sdk/src/index";

const n = Number(process.env.BENCH_N);
const client = new Client(); // SQUALL_URL / SQUALL_TOKEN from the parent
const noop = await client.functions.fromName<[number], number>(process.env.BENCH_APP!, "noop");

function* inputs(): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

const mb = (): number => process.memoryUsage().rss / 2 ** 20;
const samples: Array<[number, number]> = [];
const t0 = performance.now();
const startRssMb = mb();
let peakRssMb = startRssMb;
const sampler = setInterval(() => {
  const rss = mb();
  peakRssMb = Math.max(peakRssMb, rss);
  samples.push([Math.round(performance.now() - t0), Math.round(rss * 10) / 10]);
}, 250);

let expected = 0;
for await (const y of noop.map(inputs())) {
  if (y !== expected) throw new Error(`output ${expected} was ${y}`);
  expected++;
}
clearInterval(sampler);
peakRssMb = Math.max(peakRssMb, mb());
if (expected !== n) throw new Error(`yielded ${expected} of ${n}`);
process.send!({ n, ms: performance.now() - t0, startRssMb, peakRssMb, samples }, () => process.exit(0));

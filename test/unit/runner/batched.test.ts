// A real runner process serving batched functions: inputs the pool sends one
// by one run in batches of at most maxBatchSize, each input gets its own
// element, and a wrong-length result fails every input of its batch.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import type { ContainerHost } from "../../../sdk/src/host/index.js";
import type { SerializedError } from "../../../sdk/src/wire/serialization.js";
import { decode } from "../../../sdk/src/wire/serialization.js";
import { PoolClient, serveFixtureBundle, startContainer, startTestHost, valueOf, type BundleServer } from "../fixtures/harness.js";

let host: ContainerHost;
let bundle: BundleServer;

beforeAll(async () => {
  ({ host } = await startTestHost());
  bundle = await serveFixtureBundle();
});

afterAll(async () => {
  await host?.close();
  await bundle?.close();
});

/** A container initialized as the pool would for a batched function of maxBatchSize 4: 4 input slots. */
async function ready(target: Parameters<PoolClient["init"]>[2]): Promise<PoolClient> {
  const c = await startContainer(host.url);
  const pool = await PoolClient.connect(c.info.port, c.secret);
  expect(await pool.init(c, bundle.url, target, 4)).toMatchObject({ t: "ready" });
  return pool;
}

describe("runner: batched functions", () => {
  it("runs single inputs in batches of at most maxBatchSize, one list per parameter, each input getting its own element", async () => {
    const pool = await ready({ kind: "function", name: "embed" });
    const outputs = await pool.run(
      Array.from({ length: 10 }, (_, i) => [i, `t${i}`]),
      1,
    );
    const values = [...outputs.values()].map(valueOf) as Array<{ x: number; tag: string; size: number }>;
    expect(values.map(({ x, tag }) => ({ x, tag }))).toEqual(Array.from({ length: 10 }, (_, i) => ({ x: i, tag: `t${i}` })));
    for (const v of values) expect(v.size).toBeGreaterThanOrEqual(1);
    for (const v of values) expect(v.size).toBeLessThanOrEqual(4);
    // Ten inputs sent together fill batches: at least two full ones.
    expect(values.filter((v) => v.size === 4).length).toBeGreaterThanOrEqual(8);
    pool.close();
  });

  it("fails every input of a batch whose result has the wrong length, naming the function and both lengths", async () => {
    const pool = await ready({ kind: "function", name: "shortBatch" });
    const outputs = await pool.run([[1], [2], [3], [4]], 1);
    for (const output of outputs.values()) {
      expect(output.status).toBe("failure");
      const err = decode<SerializedError>(output.value);
      expect(err.name).toBe("BatchLengthError");
      expect(err.message).toBe(
        "shortBatch is batched: called with a batch of 4 inputs, it must return an array of 4 results (one per input, in order), but returned an array of length 3",
      );
    }
    pool.close();
  });

  it("batches a class method's inputs on its instance", async () => {
    const pool = await ready({ kind: "class", name: "Scaler", params: { factor: 10 } });
    const outputs = await pool.run([[1], [2], [3], [4]], 1, "scale");
    expect([...outputs.values()].map(valueOf)).toEqual([
      [10, 4],
      [20, 4],
      [30, 4],
      [40, 4],
    ]);
    pool.close();
  });
});

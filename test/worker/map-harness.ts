// Maps on a pool with scripted fake containers (fake-compute.ts), for the
// pool-level suites: deploy an app of one function `f`, start map calls, read
// every output; or make remote calls.
import { expect } from "vitest";
import { decode, encode } from "../../sdk/src/wire/serialization";
import { fakeCompute, type StartBehaviour } from "./fake-compute";
import { api, deploy, manifest, newWorkspace } from "./helpers";

export interface Output {
  idx: number;
  status: string;
  value: Uint8Array;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits for `ready()` to hold, or fails naming `what`. */
export async function until(what: string, ready: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Deploys `app` (one function `f`) with its starts scripted; each input's args are the fake runner's `[x, delayMs?, failures?]`. */
export async function setUp(app: string, options: Record<string, unknown>, starts: StartBehaviour[] = [], then: StartBehaviour = "ok") {
  fakeCompute.script(app, starts, then);
  const token = await newWorkspace(app);
  const res = await deploy(token, manifest(app, [{ name: "f", options: { maxContainers: 1, ...options } }]));
  if (res.status !== 201) throw new Error(`deploy: ${res.status} ${await res.text()}`);
  const functionId = ((await res.json()) as { functions: Array<{ functionId: string }> }).functions[0].functionId;
  const start = async (inputs: number[][]): Promise<string> => {
    const created = await api(token).cbor(`/v1/functions/${functionId}/calls`, {
      kind: "map",
      inputs: inputs.map((args, idx) => ({ idx, args: encode(args) })),
      closed: true,
      waitMs: 0,
    });
    expect(created.status).toBe(200);
    return decode<{ callId: string }>(new Uint8Array(await created.arrayBuffer())).callId;
  };
  /** Every output of the call, once it is done. */
  const outputs = async (callId: string): Promise<Output[]> => {
    const seen: Output[] = [];
    let cursor = 0;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await api(token).get(`/v1/calls/${callId}/outputs?cursor=${cursor}&waitMs=500`);
      expect(res.status).toBe(200);
      const body = decode<{ outputs: Output[]; cursor: number; done: boolean }>(new Uint8Array(await res.arrayBuffer()));
      seen.push(...body.outputs);
      cursor = body.cursor;
      if (body.done) return seen.sort((a, b) => a.idx - b.idx);
      if (Date.now() > deadline) throw new Error(`call ${callId} did not finish; outputs so far: ${seen.map((o) => `${o.idx}:${o.status}`).join(",")}`);
    }
  };
  /** A remote call of `[x, ...]`, as `.remote()` makes it: its id and the output it was answered with. */
  const remote = async (args: number[], requestId?: string): Promise<{ callId: string; output: Output | undefined }> => {
    const created = await api(token).cbor(`/v1/functions/${functionId}/calls`, {
      kind: "remote",
      inputs: [{ idx: 0, args: encode(args) }],
      closed: true,
      waitMs: 20_000,
      ...(requestId ? { requestId } : {}),
    });
    expect(created.status).toBe(200);
    const body = decode<{ callId: string; outputs: Output[] }>(new Uint8Array(await created.arrayBuffer()));
    return { callId: body.callId, output: body.outputs[0] };
  };
  return { token, functionId, start, outputs, remote, map: async (inputs: number[][]) => outputs(await start(inputs)) };
}

export const valuesOf = (outputs: Output[]): Array<[string, unknown]> => outputs.map((o) => [o.status, decode(o.value)]);
export const errorOf = (o: Output): { name: string; message: string } => decode(o.value);

// Variants at the API: what a variant may be (400 naming the option), its
// pool's settings (declared options with the variant's on top, overrides of
// its own), and what a redeploy does to it.
import { describe, it, expect } from "vitest";
import { api, deploy, errorOf, manifest, newWorkspace } from "./helpers";
import type { FunctionStats } from "../../sdk/src/wire/api";

async function deployed(token: string, options: Record<string, unknown>): Promise<string> {
  const res = await deploy(token, manifest("variants", [{ name: "f", options }]));
  expect(res.status).toBe(201);
  return ((await res.json()) as { functions: Array<{ functionId: string }> }).functions[0].functionId;
}

const statsPath = (fnId: string, variant?: string) => `/v1/functions/${fnId}/stats${variant === undefined ? "" : `?variant=${encodeURIComponent(variant)}`}`;

async function statsOf(token: string, fnId: string, variant?: string): Promise<FunctionStats> {
  const res = await api(token).get(statsPath(fnId, variant));
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as FunctionStats;
}

describe("variants", () => {
  it("refuses a bad variant with 400 naming the option, on calls, spawns and stats", async () => {
    const token = await newWorkspace();
    const fnId = await deployed(token, { maxContainers: 3 });
    const call = await api(token).cbor(`/v1/functions/${fnId}/calls`, {
      kind: "remote",
      variant: "maxContainers=0",
      inputs: [{ idx: 0, args: new Uint8Array([0x80]) }],
      closed: true,
    });
    expect(call.status).toBe(400);
    expect((await errorOf(call)).message).toMatch(/option "maxContainers" must be between 1 and 1000, got 0/);
    const spawn = await api(token).cbor(`/v1/functions/${fnId}/spawns`, { variant: "maxInputs=x", inputs: [{ idx: 0, args: new Uint8Array([0x80]) }] });
    expect(spawn.status).toBe(400);
    expect((await errorOf(spawn)).message).toMatch(/option "concurrent.maxInputs" must be a whole number, got "x"/);
    const unknown = await api(token).get(statsPath(fnId, "schedule=1"));
    expect(unknown.status).toBe(400);
    expect((await errorOf(unknown)).message).toMatch(/expected option=value pairs/);
    const againstDeclared = await api(token).get(statsPath(fnId, "minContainers=4"));
    expect(againstDeclared.status).toBe(400);
    expect((await errorOf(againstDeclared)).message).toMatch(/"minContainers" \(4\) must not exceed "maxContainers" \(3\)/);
  });

  it("configures a variant's pool from the declared options and its own, with overrides of its own", async () => {
    const token = await newWorkspace();
    const fnId = await deployed(token, { maxContainers: 3, scaledownWindowMs: 10_000 });
    const variant = await statsOf(token, fnId, "maxInputs=4,maxContainers=1");
    expect(variant.variant).toBe("maxContainers=1,maxInputs=4");
    expect(variant.autoscaler).toMatchObject({ maxContainers: 1, scaledownWindowMs: 10_000 });
    const patched = await api(token).json("PATCH", `/v1/functions/${fnId}/autoscaler?variant=maxContainers%3D1%2CmaxInputs%3D4`, { minContainers: 1 });
    expect(patched.status).toBe(200);
    expect((await statsOf(token, fnId, "maxContainers=1,maxInputs=4")).autoscaler.minContainers).toBe(1);
    const own = await statsOf(token, fnId);
    expect(own.autoscaler).toMatchObject({ maxContainers: 3, minContainers: 0 });
    expect(own.variants).toEqual(["maxContainers=1,maxInputs=4"]);
    // The function's own overrides stay on its pool.
    await api(token).json("PATCH", `/v1/functions/${fnId}/autoscaler`, { bufferContainers: 2 });
    expect((await statsOf(token, fnId, "maxContainers=1,maxInputs=4")).autoscaler.bufferContainers).toBe(0);
  });

  it("carries variants to a redeploy: the new declared options under them, overrides cleared; one that no longer holds is refused", async () => {
    const token = await newWorkspace();
    const fnId = await deployed(token, { maxContainers: 3, scaledownWindowMs: 10_000 });
    await statsOf(token, fnId, "minContainers=2");
    await api(token).json("PATCH", `/v1/functions/${fnId}/autoscaler?variant=minContainers%3D2`, { bufferContainers: 1 });
    expect(await deployed(token, { maxContainers: 5, scaledownWindowMs: 20_000 })).toBe(fnId);
    const carried = await statsOf(token, fnId, "minContainers=2");
    expect(carried.autoscaler).toMatchObject({ minContainers: 2, maxContainers: 5, scaledownWindowMs: 20_000, bufferContainers: 0 });
    await deployed(token, { maxContainers: 1 });
    const refused = await api(token).get(statsPath(fnId, "minContainers=2"));
    expect(refused.status).toBe(400);
    expect((await errorOf(refused)).message).toMatch(/"minContainers" \(2\) must not exceed "maxContainers" \(1\)/);
  });
});

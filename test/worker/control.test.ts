// The control layer called directly, with plain values and no HTTP request:
// what the schedules and the dashboard rely on.
import { describe, it, expect } from "vitest";
import { env } from "cloudflare:test";
import { deployApp, stopApp } from "../../src/control/apps";
import { ApiError } from "../../src/control/errors";
import { overrideAutoscaler } from "../../src/control/overrides";
import { resolvePool, type PoolRequest } from "../../src/control/pools";
import { hashToken } from "../../src/auth/crypto";
import { BASE, BUNDLE, manifest, newWorkspace } from "./helpers";

async function workspaceIdOf(token: string): Promise<string> {
  const row = await env.DB.prepare("SELECT workspace_id AS id FROM tokens WHERE hash = ?")
    .bind(await hashToken(token))
    .first<{ id: string }>();
  return row!.id;
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return { code: (err as ApiError).code, message: (err as ApiError).message };
}

describe("the control layer", () => {
  it("deploys, resolves, overrides and stops from plain values", async () => {
    const workspaceId = await workspaceIdOf(await newWorkspace("control"));
    const functions = [
      { name: "f", options: { maxContainers: 4 } },
      { name: "Model", kind: "class" as const, methods: ["predict"] },
    ];
    const request = { manifest: manifest("plain", functions), bundle: BUNDLE };
    const deployed = await deployApp(env, { workspaceId, appName: "plain", request, publicUrl: BASE });
    const [f, model] = ["f", "Model"].map((name) => deployed.functions.find((x) => x.name === name)!.functionId);

    const of = (functionId: string, params: string | null = null): PoolRequest => ({ workspaceId, functionId, params, publicUrl: BASE });
    const pool = await resolvePool(env, of(f));
    expect(pool.config).toMatchObject({ functionName: "f", appName: "plain", publicUrl: BASE, params: null });
    expect(pool.poolId).toMatch(/^[0-9a-f]{64}$/);
    expect((await resolvePool(env, of(model, "AA"))).instanceKey).not.toBe("");

    expect(await overrideAutoscaler(env, pool, { minContainers: 1 })).toMatchObject({ minContainers: 1, maxContainers: 4 });
    const stats = await (await resolvePool(env, of(f))).stub.stats(workspaceId);
    expect(stats.ok && stats.value.autoscaler.minContainers).toBe(1);

    expect(await failure(resolvePool(env, of(model)))).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("is a class") });
    expect(await failure(resolvePool(env, { ...of(f), workspaceId: "ws-someone-else" }))).toMatchObject({ code: "NOT_FOUND" });

    expect(await stopApp(env, workspaceId, "plain")).toMatchObject({ appName: "plain" });
    expect(await failure(resolvePool(env, of(f)))).toMatchObject({ code: "NOT_FOUND", message: expect.stringContaining("is stopped") });
  });

  it("refuses a manifest whose name is not the app's, before storing anything", async () => {
    const workspaceId = await workspaceIdOf(await newWorkspace("control-mismatch"));
    const request = { manifest: manifest("other", [{ name: "f" }]), bundle: BUNDLE };
    expect(await failure(deployApp(env, { workspaceId, appName: "mine", request, publicUrl: BASE }))).toMatchObject({ code: "INVALID_ARGUMENT" });
    const apps = await env.DB.prepare("SELECT COUNT(*) AS n FROM apps WHERE workspace_id = ?").bind(workspaceId).first<{ n: number }>();
    expect(apps!.n).toBe(0);
  });
});

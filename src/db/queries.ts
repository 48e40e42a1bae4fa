// D1 access for the API: workspaces and tokens, deploys, lookups, overrides.
import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import { and, eq, inArray, sql, type SQL } from "drizzle-orm";
import * as schema from "./schema";
import type { AppManifest, FunctionInfo } from "../../sdk/src/wire/api";
import type { AutoscalerUpdate } from "../../sdk/src/wire/options";
import { randomId } from "../auth/crypto";

export type Db = DrizzleD1Database<typeof schema>;
type BatchItem = BatchItemOf<Db>;
type BatchItemOf<D extends { batch: (items: never) => unknown }> = Parameters<D["batch"]>[0] extends readonly (infer T)[] ? T : never;

export function db(d1: D1Database): Db {
  return drizzle(d1, { schema });
}

export type FunctionRow = typeof schema.functions.$inferSelect;
export type AppRow = typeof schema.apps.$inferSelect;

export async function workspaceForToken(d: Db, hash: string): Promise<string | null> {
  const row = await d.select({ workspaceId: schema.tokens.workspaceId }).from(schema.tokens).where(eq(schema.tokens.hash, hash)).get();
  return row?.workspaceId ?? null;
}

export async function createWorkspace(d: Db, name: string, tokenHash: string): Promise<{ workspaceId: string; tokenId: string }> {
  const workspaceId = randomId("ws-");
  const tokenId = randomId("tk-");
  const now = Date.now();
  await d.batch([
    d.insert(schema.workspaces).values({ id: workspaceId, name, createdAt: now }),
    d.insert(schema.tokens).values({ id: tokenId, workspaceId, hash: tokenHash, createdAt: now }),
  ]);
  return { workspaceId, tokenId };
}

export async function createToken(d: Db, workspaceId: string, tokenHash: string): Promise<string> {
  const tokenId = randomId("tk-");
  await d.insert(schema.tokens).values({ id: tokenId, workspaceId, hash: tokenHash, createdAt: Date.now() });
  return tokenId;
}

export async function findApp(d: Db, workspaceId: string, name: string): Promise<AppRow | null> {
  return (
    (await d
      .select()
      .from(schema.apps)
      .where(and(eq(schema.apps.workspaceId, workspaceId), eq(schema.apps.name, name)))
      .get()) ?? null
  );
}

export interface DeployResult {
  app: AppRow;
  deploymentId: string;
  version: number;
  functions: FunctionRow[];
  /** Functions the deploy removed (their pools should stop). */
  removed: FunctionRow[];
}

/**
 * Records a deployment in one batch: the app (created or bumped), the
 * deployment, every function (ids kept across deploys), overrides cleared.
 */
export async function recordDeployment(d: Db, workspaceId: string, manifest: AppManifest, bundleKey: string, ephemeral: boolean): Promise<DeployResult> {
  const now = Date.now();
  const existing = await findApp(d, workspaceId, manifest.name);
  const appId = existing?.id ?? randomId("ap-");
  const version = (existing?.version ?? 0) + 1;
  const deploymentId = randomId("dp-");
  const previous = existing ? await d.select().from(schema.functions).where(eq(schema.functions.appId, appId)).all() : [];
  const byName = new Map(previous.map((f) => [f.name, f]));

  const functions: FunctionRow[] = manifest.functions.map((f) => {
    const old = byName.get(f.name);
    return {
      id: old?.id ?? randomId("fn-"),
      appId,
      name: f.name,
      kind: f.kind,
      deploymentId,
      options: f.options,
      methods: f.methods ?? [],
      live: true,
      configVersion: (old?.configVersion ?? 0) + 1,
    };
  });
  const kept = new Set(functions.map((f) => f.name));
  const removed = previous.filter((f) => f.live && !kept.has(f.name)).map((f) => ({ ...f, live: false, configVersion: f.configVersion + 1 }));
  const allIds = previous.map((f) => f.id);

  const appWrite = existing
    ? d.update(schema.apps).set({ state: "deployed", activeDeploymentId: deploymentId, version, ephemeral }).where(eq(schema.apps.id, appId))
    : d
        .insert(schema.apps)
        .values({ id: appId, workspaceId, name: manifest.name, state: "deployed", ephemeral, activeDeploymentId: deploymentId, version, createdAt: now });
  const statements: BatchItem[] = [
    appWrite,
    d.insert(schema.deployments).values({ id: deploymentId, appId, version, bundleKey, manifest, createdAt: now }),
    ...functions.map((f) =>
      d
        .insert(schema.functions)
        .values(f)
        .onConflictDoUpdate({
          target: schema.functions.id,
          set: { kind: f.kind, deploymentId, options: f.options, methods: f.methods, live: true, configVersion: f.configVersion },
        }),
    ),
    ...removed.map((f) => d.update(schema.functions).set({ live: false, configVersion: f.configVersion }).where(eq(schema.functions.id, f.id))),
  ];
  if (allIds.length) statements.push(d.delete(schema.autoscalerOverrides).where(inArray(schema.autoscalerOverrides.functionId, allIds)));
  await d.batch(statements as [BatchItem, ...BatchItem[]]);
  const app = (await findApp(d, workspaceId, manifest.name))!;
  return { app, deploymentId, version, functions, removed };
}

export async function listApps(d: Db, workspaceId: string): Promise<Array<AppRow & { deployedAt: number; functions: string[] }>> {
  const apps = await d.select().from(schema.apps).where(eq(schema.apps.workspaceId, workspaceId)).all();
  if (!apps.length) return [];
  const fns = await d
    .select({ appId: schema.functions.appId, name: schema.functions.name, live: schema.functions.live })
    .from(schema.functions)
    .where(
      inArray(
        schema.functions.appId,
        apps.map((a) => a.id),
      ),
    )
    .all();
  const deps = await d
    .select({ id: schema.deployments.id, createdAt: schema.deployments.createdAt })
    .from(schema.deployments)
    .where(
      inArray(
        schema.deployments.id,
        apps.map((a) => a.activeDeploymentId ?? ""),
      ),
    )
    .all();
  const deployedAt = new Map(deps.map((x) => [x.id, x.createdAt]));
  return apps.map((a) => ({
    ...a,
    deployedAt: deployedAt.get(a.activeDeploymentId ?? "") ?? a.createdAt,
    functions: fns.filter((f) => f.appId === a.id && f.live).map((f) => f.name),
  }));
}

export async function functionsOfApp(d: Db, appId: string): Promise<FunctionRow[]> {
  return d.select().from(schema.functions).where(eq(schema.functions.appId, appId)).all();
}

export interface ResolvedFunction {
  fn: FunctionRow;
  app: AppRow;
}

export async function findFunctionByName(d: Db, workspaceId: string, appName: string, name: string): Promise<ResolvedFunction | null> {
  const row = await d
    .select({ fn: schema.functions, app: schema.apps })
    .from(schema.functions)
    .innerJoin(schema.apps, eq(schema.functions.appId, schema.apps.id))
    .where(and(eq(schema.apps.workspaceId, workspaceId), eq(schema.apps.name, appName), eq(schema.functions.name, name), eq(schema.functions.live, true)))
    .get();
  return row ?? null;
}

export async function findFunctionById(d: Db, workspaceId: string, functionId: string): Promise<ResolvedFunction | null> {
  const row = await d
    .select({ fn: schema.functions, app: schema.apps })
    .from(schema.functions)
    .innerJoin(schema.apps, eq(schema.functions.appId, schema.apps.id))
    .where(and(eq(schema.apps.workspaceId, workspaceId), eq(schema.functions.id, functionId)))
    .get();
  return row ?? null;
}

export interface Overrides {
  settings: AutoscalerUpdate;
  sources: SettingSources;
}

export async function overridesFor(d: Db, functionId: string, instanceKey: string): Promise<Overrides> {
  const rows = await d
    .select()
    .from(schema.autoscalerOverrides)
    .where(and(eq(schema.autoscalerOverrides.functionId, functionId), inArray(schema.autoscalerOverrides.instanceKey, instanceKey ? ["", instanceKey] : [""])))
    .all();
  // An instance inherits the function's overrides and adds its own on top. A variant's pool (key with "~",
  // control/pools.ts) has only its own: the function's overrides leave it alone, as its options do.
  const inherited = instanceKey.includes("~") ? undefined : rows.find((r) => r.instanceKey === "");
  const ordered = [inherited, instanceKey ? rows.find((r) => r.instanceKey === instanceKey) : undefined];
  const out: Overrides = { settings: {}, sources: {} };
  for (const row of ordered) {
    if (!row) continue;
    Object.assign(out.settings, row.settings as AutoscalerUpdate);
    Object.assign(out.sources, row.sources as SettingSources);
  }
  return out;
}

export type SettingSource = "override" | "schedule";
export type SettingSources = Partial<Record<keyof AutoscalerUpdate, SettingSource>>;

/**
 * Merges an override field by field and bumps the function's config version;
 * returns the new version. The merge happens inside the UPSERT (json_set on
 * the stored row) and the bump is an increment, in one batch: two updates
 * at the same moment both keep their fields, and never share a version.
 */
export async function mergeOverride(d: Db, fn: FunctionRow, instanceKey: string, update: AutoscalerUpdate, source: SettingSource): Promise<number> {
  const keys = (Object.keys(update) as Array<keyof AutoscalerUpdate>).filter((k) => update[k] !== undefined);
  const settings = Object.fromEntries(keys.map((k) => [k, update[k]]));
  const sources: SettingSources = Object.fromEntries(keys.map((k) => [k, source]));
  const t = schema.autoscalerOverrides;
  // json(?) keeps numbers numbers and null null (a maxContainers of null means no ceiling).
  const setEach = (column: typeof t.settings | typeof t.sources, value: (k: keyof AutoscalerUpdate) => SQL): SQL =>
    keys.length === 0
      ? sql`${column}`
      : sql`json_set(${column}, ${sql.join(
          keys.map((k) => sql`${`$.${k}`}, ${value(k)}`),
          sql`, `,
        )})`;
  const now = Date.now();
  const [, bumped] = await d.batch([
    d
      .insert(t)
      .values({ functionId: fn.id, instanceKey, settings, sources, updatedAt: now })
      .onConflictDoUpdate({
        target: [t.functionId, t.instanceKey],
        set: {
          settings: setEach(t.settings, (k) => sql`json(${JSON.stringify(update[k])})`),
          sources: setEach(t.sources, () => sql`${source}`),
          updatedAt: now,
        },
      }),
    d
      .update(schema.functions)
      .set({ configVersion: sql`${schema.functions.configVersion} + 1` })
      .where(eq(schema.functions.id, fn.id))
      .returning({ version: schema.functions.configVersion }),
  ]);
  return bumped[0]?.version ?? fn.configVersion + 1;
}

export async function recordClassInstance(d: Db, functionId: string, instanceKey: string, params: string): Promise<void> {
  await d.insert(schema.classInstances).values({ functionId, instanceKey, params, createdAt: Date.now() }).onConflictDoNothing();
}

export type ClassInstanceRow = typeof schema.classInstances.$inferSelect;

export async function classInstancesOf(d: Db, functionIds: string[]): Promise<Array<typeof schema.classInstances.$inferSelect>> {
  if (!functionIds.length) return [];
  return d.select().from(schema.classInstances).where(inArray(schema.classInstances.functionId, functionIds)).all();
}

export async function setAppState(d: Db, appId: string, state: "deployed" | "stopped"): Promise<void> {
  await d.update(schema.apps).set({ state }).where(eq(schema.apps.id, appId));
}

export async function bundleKeyOf(d: Db, deploymentId: string): Promise<string | null> {
  const row = await d.select({ key: schema.deployments.bundleKey }).from(schema.deployments).where(eq(schema.deployments.id, deploymentId)).get();
  return row?.key ?? null;
}

/** Deletes an app and everything under it (ephemeral apps at the end of `squall run`). */
export async function deleteApp(d: Db, app: AppRow): Promise<void> {
  const fnIds = (await functionsOfApp(d, app.id)).map((f) => f.id);
  const statements: BatchItem[] = [];
  if (fnIds.length) {
    statements.push(d.delete(schema.autoscalerOverrides).where(inArray(schema.autoscalerOverrides.functionId, fnIds)));
    statements.push(d.delete(schema.classInstances).where(inArray(schema.classInstances.functionId, fnIds)));
    statements.push(d.delete(schema.schedules).where(inArray(schema.schedules.functionId, fnIds)));
    statements.push(d.delete(schema.functions).where(inArray(schema.functions.id, fnIds)));
  }
  statements.push(d.delete(schema.deployments).where(eq(schema.deployments.appId, app.id)));
  statements.push(d.delete(schema.apps).where(eq(schema.apps.id, app.id)));
  await d.batch(statements as [BatchItem, ...BatchItem[]]);
}

export function functionInfo(fn: FunctionRow, appName: string): FunctionInfo {
  return {
    functionId: fn.id,
    appName,
    name: fn.name,
    kind: fn.kind,
    methods: fn.methods,
    options: fn.options,
  };
}

// D1 schema (docs/architecture.md "D1"): who may call, what is deployed, and the
// autoscaler overrides and schedules that outlive a pool's memory.
import { sqliteTable, text, integer, primaryKey, uniqueIndex, index } from "drizzle-orm/sqlite-core";
import type { FunctionOptionsWire } from "../../sdk/src/wire/options";

export const workspaces = sqliteTable("workspaces", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** Tokens are stored as SHA-256 hashes; the token itself is shown once. */
export const tokens = sqliteTable(
  "tokens",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id),
    hash: text("hash").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("tokens_hash").on(t.hash)],
);

export const apps = sqliteTable(
  "apps",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id),
    name: text("name").notNull(),
    state: text("state", { enum: ["deployed", "stopped"] }).notNull(),
    ephemeral: integer("ephemeral", { mode: "boolean" }).notNull(),
    activeDeploymentId: text("active_deployment_id"),
    version: integer("version").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("apps_workspace_name").on(t.workspaceId, t.name)],
);

export const deployments = sqliteTable("deployments", {
  id: text("id").primaryKey(),
  appId: text("app_id")
    .notNull()
    .references(() => apps.id),
  version: integer("version").notNull(),
  /** Key of the bundle in R2 (content-addressed: bundles/<sha256>.mjs). */
  bundleKey: text("bundle_key").notNull(),
  manifest: text("manifest", { mode: "json" }).notNull(),
  createdAt: integer("created_at").notNull(),
});

/**
 * Functions and classes of an app. A row keeps its id across deploys, so a
 * handle looked up once stays valid; `configVersion` grows with every deploy
 * and override so pools can tell a newer config from an older one.
 */
export const functions = sqliteTable(
  "functions",
  {
    id: text("id").primaryKey(),
    appId: text("app_id")
      .notNull()
      .references(() => apps.id),
    name: text("name").notNull(),
    kind: text("kind", { enum: ["function", "class"] }).notNull(),
    deploymentId: text("deployment_id").notNull(),
    /** Checked by resolveOptions before a deploy stores them. */
    options: text("options", { mode: "json" }).$type<FunctionOptionsWire>().notNull(),
    methods: text("methods", { mode: "json" }).$type<string[]>().notNull(),
    /** False once a deploy no longer defines it. */
    live: integer("live", { mode: "boolean" }).notNull(),
    configVersion: integer("config_version").notNull(),
  },
  (t) => [uniqueIndex("functions_app_name").on(t.appId, t.name)],
);

/**
 * The pools of a function beyond its own that have been called: class
 * instances (params: their base64url CBOR), and variants (instance key with
 * `~<variant>`, params "" for a plain function; control/pools.ts), so a
 * deploy, a stop, an override and the dashboard can reach their pools.
 */
export const classInstances = sqliteTable(
  "class_instances",
  {
    functionId: text("function_id")
      .notNull()
      .references(() => functions.id),
    instanceKey: text("instance_key").notNull(),
    params: text("params").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.functionId, t.instanceKey] })],
);

/**
 * Autoscaler overrides from `updateAutoscaler` and scaling schedules, merged
 * field by field (last write wins); `sources` says which of the two set each
 * field. instanceKey "" is the function itself. Cleared by a deploy.
 */
export const autoscalerOverrides = sqliteTable(
  "autoscaler_overrides",
  {
    functionId: text("function_id")
      .notNull()
      .references(() => functions.id),
    instanceKey: text("instance_key").notNull(),
    settings: text("settings", { mode: "json" }).notNull(),
    sources: text("sources", { mode: "json" }).notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.functionId, t.instanceKey] })],
);

/** Schedules of deployed functions: runs (`schedule`) and scaling entries (`scalingSchedule`). */
export const schedules = sqliteTable(
  "schedules",
  {
    id: text("id").primaryKey(),
    functionId: text("function_id")
      .notNull()
      .references(() => functions.id),
    kind: text("kind", { enum: ["run", "scaling"] }).notNull(),
    spec: text("spec", { mode: "json" }).notNull(),
    /** The due time (ms) last fired, so a late or repeated cron run fires each due time once. */
    lastDueAt: integer("last_due_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("schedules_function").on(t.functionId)],
);

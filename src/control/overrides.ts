// Autoscaler overrides (`updateAutoscaler`) from any door: PATCH /v1/functions/:id/autoscaler, the
// dashboard's form. One validation, one merge, one message for a mistake.
import type { Env } from "../env";
import type { AutoscalerSettings } from "../../sdk/src/wire/options";
import { OptionsError, checkAutoscalerUpdate, applyAutoscalerUpdate } from "../../sdk/src/wire/options";
import { effectiveSettings } from "../pool/config";
import { db, findFunctionById, mergeOverride, overridesFor } from "../db/queries";
import { invalid, notFound } from "./errors";
import { buildConfig, forgetResolvedPools, type ResolvedPool } from "./pools";

/**
 * Checks `raw` as an autoscaler update, stores it as an override merged
 * field by field, and hands the pool its new config. Returns the settings
 * now in effect. A bad update is refused (400) before anything is stored:
 * one whose minContainers would exceed the maxContainers in effect too (a
 * scaling-schedule entry cannot be refused when it fires, so there the pool
 * clamps instead: see effectiveSettings).
 */
export async function overrideAutoscaler(env: Env, pool: ResolvedPool, raw: unknown): Promise<AutoscalerSettings> {
  const where = `updateAutoscaler on ${pool.resolved.fn.name}`;
  let update;
  try {
    update = checkAutoscalerUpdate(where, raw);
    // Checked against what is in effect, so min > max is refused before anything is stored.
    applyAutoscalerUpdate(where, effectiveSettings(pool.config), update);
  } catch (err) {
    if (err instanceof OptionsError) throw invalid(err.message);
    throw err;
  }
  const d = db(env.DB);
  await mergeOverride(d, pool.resolved.fn, pool.instanceKey, update, "override");
  // From the row as it is now: the resolved pool may come from a cache older than the last deploy,
  // and its deployment with the new (higher) version would roll the pool back. The version is read
  // before the overrides, so a config never carries a version newer than its overrides (a pool
  // ignores a later config with the same version, and would keep missing a concurrent update's field).
  const fresh = await findFunctionById(d, pool.resolved.app.workspaceId, pool.resolved.fn.id);
  const overrides = await overridesFor(d, pool.resolved.fn.id, pool.instanceKey);
  if (!fresh) throw notFound(`function ${pool.resolved.fn.name} not found`);
  const config = buildConfig(fresh, overrides, pool.config.params, pool.config.publicUrl, pool.variant);
  await pool.stub.configure(config);
  forgetResolvedPools();
  return effectiveSettings(config);
}

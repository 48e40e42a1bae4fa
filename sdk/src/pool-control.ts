// The controls of one pool (a function, or one class instance): autoscaler
// overrides and current stats. Class instances name their pool by params.
import type { FunctionStats } from "./wire/api.js";
import { OptionsError, checkAutoscalerUpdate, type AutoscalerSettings, type AutoscalerUpdate } from "./wire/options.js";
import { InvalidError } from "./errors.js";
import { httpOf, withRetries } from "./http.js";
import { instanceQuery, type CallTarget } from "./calls.js";
import { ROUTES } from "./wire/routes.js";

/** Returns the settings in effect afterwards (declared options + every override so far). */
export async function updateAutoscaler(target: CallTarget, name: string, settings: AutoscalerUpdate): Promise<AutoscalerSettings> {
  try {
    // Checked here too, so a typo fails before any request, with the same message the platform gives.
    checkAutoscalerUpdate(`updateAutoscaler on ${name}`, settings);
  } catch (err) {
    if (err instanceof OptionsError) throw new InvalidError(err.message);
    throw err;
  }
  return httpOf(target.client).send(ROUTES.updateAutoscaler, {
    params: { functionId: target.functionId },
    query: instanceQuery(target),
    body: settings,
  });
}

/** A read: a dropped connection (a platform under load may reset one) is retried. */
export function getCurrentStats(target: CallTarget): Promise<FunctionStats> {
  return withRetries(() => httpOf(target.client).send(ROUTES.stats, { params: { functionId: target.functionId }, query: instanceQuery(target) }), {
    retryTransient: true,
  });
}

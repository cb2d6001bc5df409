import { runIntegrations, secretParamValues, type RunSpec } from "@causeway/core";
import type { EngineContext } from "./context.js";

/**
 * The secrets of a run, to redact from its console: the values of its secret parameters and of
 * every integration it uses (its INs' integrations and the job's `integrations:`). A run that
 * uses neither costs nothing: no call to the secrets port.
 */
export async function runSecrets(ctx: EngineContext, spec: RunSpec): Promise<string[]> {
  const values = secretParamValues(spec.run, spec.job.params);
  const integrations = runIntegrations(spec);
  const port = ctx.options.secrets;
  if (integrations.length > 0 && port !== undefined) values.push(...(await port.valuesOf(integrations)));
  return values;
}

import { redactSecrets, runIntegrations, secretParamValues, type RunResult, type RunSpec } from "@causeway/core";
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

/**
 * A run's result with its secrets redacted from what becomes versions and notifications (the
 * `KEY=VALUE` outputs, `outputVersion.json`, OUT `version.json`s, `shipctl notify` requests):
 * they are stored in the database and shown by the API (versions, traces) and to downstream
 * jobs. State files are left as they are.
 */
export function redactResult(result: RunResult, secrets: readonly string[]): RunResult {
  if (secrets.length === 0) return result;
  return {
    ...result,
    outputs: redactSecrets(result.outputs, secrets),
    ...(result.outVersions === undefined ? {} : { outVersions: redactSecrets(result.outVersions, secrets) }),
    ...(result.jobVersion === undefined || result.jobVersion === null
      ? {}
      : { jobVersion: redactSecrets(result.jobVersion, secrets) }),
    ...(result.notifications === undefined ? {} : { notifications: redactSecrets(result.notifications, secrets) }),
  };
}

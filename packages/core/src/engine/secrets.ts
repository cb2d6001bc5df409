import type { ParamSpec } from "../language/model.js";
import type { Run } from "./model.js";

/**
 * The secret parameters of a run being created, for `Run.secretParams`: each given parameter
 * the job declares `type: secret`, plus those `inherited` from the run it repeats (a rerun or a
 * retry keeps secret what its original kept secret, whatever the job says now). Sorted, without
 * duplicates; only names present in `params`.
 */
export function secretParamsOf(
  params: Readonly<Record<string, string>>,
  specs: readonly Pick<ParamSpec, "name" | "type">[],
  inherited: readonly string[] = [],
): string[] {
  const names = new Set(inherited);
  for (const spec of specs) if (spec.type === "secret") names.add(spec.name);
  return [...names].filter((name) => Object.hasOwn(params, name)).sort();
}

/**
 * The parameters of `run` whose values must never be shown or written: those recorded as secret
 * when it was created, and those the job's current definition (`specs`, when the job still
 * exists) declares secret. A run recorded before secrets were recorded relies on the second.
 */
export function secretNamesOf(
  run: Pick<Run, "params" | "secretParams">,
  specs: readonly Pick<ParamSpec, "name" | "type">[] = [],
): ReadonlySet<string> {
  return new Set(secretParamsOf(run.params, specs, run.secretParams));
}

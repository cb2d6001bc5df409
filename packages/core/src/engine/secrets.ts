import type { ParamSpec } from "../language/model.js";
import type { Run } from "./model.js";
import type { RunSpec } from "./runner-port.js";

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

/**
 * The integration of a dependency, when it has one: the `integration:` it names, or, for an
 * `integration` resource without one, its own name (the resource stands for the stored secret).
 */
export function integrationOf(dep: {
  readonly name: string;
  readonly type: string;
  readonly integration?: string;
}): string | undefined {
  return dep.integration ?? (dep.type === "integration" ? dep.name : undefined);
}

/**
 * The integrations a run uses, whose values are its secrets besides its secret parameters: the
 * integration of each IN, and the job's `integrations:`. Sorted, without duplicates.
 */
export function runIntegrations(spec: Pick<RunSpec, "dependencies" | "job">): string[] {
  const names = new Set<string>(spec.job.integrations);
  for (const dep of spec.dependencies) {
    const name = dep.operation === "IN" ? integrationOf(dep) : undefined;
    if (name !== undefined) names.add(name);
  }
  return [...names].sort();
}

/** The values of a run's secret parameters (recorded, or declared secret by `specs`). */
export function secretParamValues(
  run: Pick<Run, "params" | "secretParams">,
  specs: readonly Pick<ParamSpec, "name" | "type">[] = [],
): string[] {
  return [...secretNamesOf(run, specs)].flatMap((name) => {
    const value = run.params[name];
    return value === undefined ? [] : [value];
  });
}

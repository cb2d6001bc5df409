import { dependencyEnv, envVars, isEnvName, jobEnv, type RunSpec, type TaskStep, CausewayError } from "@causeway/core";
import { dependencyPaths, specSecrets } from "./workspace.js";

/**
 * The environment of a run (shippable.md §8.3), built from core's single definition of the
 * variables: base environment, then every dependency's user part (bare params keys), then every
 * dependency's platform variables (platform wins over user data), then the job variables (so a
 * dependency named `build` cannot replace BUILD_ID), then
 * `PATH = <shipctl dir>:<base PATH>`, then the manual-run parameters. Values reach the task as
 * its environment (script.ts `envExport`: quoted literals, never evaluated). Throws
 * `WORKSPACE_INVALID` for a parameter whose name is not a valid variable name.
 */
export function runEnvironment(
  spec: RunSpec,
  jobPath: string,
  base: Readonly<Record<string, string>>,
  shipctlDir: string,
): Record<string, string> {
  // Without a prototype (core's envVars): the names differ from run to run.
  const env = Object.assign(envVars(), base);
  const platform: Record<string, string>[] = [];
  const inNames = new Set(spec.dependencies.filter((d) => d.operation === "IN").map((d) => d.name));
  for (const dep of spec.dependencies) {
    // A state resource both IN and OUT of a job has one set of variables: the IN's (shipctl
    // reaches the OUT side through $JOB_PATH/OUT/<name>/).
    if (dep.operation === "OUT" && inNames.has(dep.name)) continue;
    const { path, dataDir } = dependencyPaths(jobPath, dep);
    const vars = dependencyEnv({ ...dep, path, stateDir: dataDir });
    Object.assign(env, vars.user);
    platform.push(vars.platform);
  }
  for (const vars of platform) Object.assign(env, vars);
  const { run } = spec;
  // Job variables come after the dependencies': a dependency named `build` or `job` must not
  // replace BUILD_ID or JOB_NAME.
  Object.assign(
    env,
    jobEnv({
      jobName: spec.job.name,
      jobType: spec.job.type,
      runId: run.id,
      runNumber: run.number,
      jobPath,
      triggeredBy: run.trigger.by,
      triggeredById: String(run.trigger.versionId ?? run.trigger.runId ?? ""),
      triggeredByUser: run.trigger.kind === "manual" ? run.trigger.by : "",
      buildUrl: spec.buildUrl,
    }),
  );
  env.PATH = base.PATH === undefined || base.PATH === "" ? shipctlDir : `${shipctlDir}:${base.PATH}`;
  const bad = Object.keys(spec.params).filter((name) => !isEnvName(name));
  if (bad.length > 0) {
    throw new CausewayError(
      "WORKSPACE_INVALID",
      `invalid manual parameter name${bad.length > 1 ? "s" : ""} ${bad.map((n) => JSON.stringify(n)).join(", ")}: ` +
        "a parameter becomes an environment variable, so its name must match [A-Za-z_][A-Za-z0-9_]*",
    );
  }
  Object.assign(env, spec.params);
  return env;
}

/**
 * The environment of one task: the run's, plus TASK_NAME, plus the step's `env` (last). A job
 * with hooks and no TASK step runs them as one task named `name`, with no step.
 */
export function taskEnvironment(
  runEnv: Readonly<Record<string, string>>,
  step: TaskStep | undefined,
  name: string,
): Record<string, string> {
  if (step === undefined) return Object.assign(envVars(), runEnv, { TASK_NAME: name });
  const bad = Object.keys(step.env).filter((key) => !isEnvName(key));
  if (bad.length > 0) {
    throw new CausewayError(
      "WORKSPACE_INVALID",
      `task ${JSON.stringify(step.name)}: invalid environment variable name ${bad.map((n) => JSON.stringify(n)).join(", ")}`,
    );
  }
  return Object.assign(envVars(), runEnv, { TASK_NAME: step.name, TASK_IN_CONTAINER: "false" }, step.env);
}

/** A task's environment, split by where it may be written. */
export interface SplitEnvironment {
  /** What the task's script may hold (its `export` line). */
  readonly open: Readonly<Record<string, string>>;
  /** The values of secret parameters: given to the task's process only, never to a file. */
  readonly secret: Record<string, string>;
}

/**
 * Splits a task's environment: the variables that carry the value of a secret parameter of the
 * run (recorded with the run, or declared secret by the job now) go to `secret`, the rest to
 * `open`. A secret parameter whose variable the task's own `env` replaced is no secret there.
 */
export function splitSecrets(env: Readonly<Record<string, string>>, spec: RunSpec): SplitEnvironment {
  const names = specSecrets(spec);
  // Most runs have no secret: no copy of the environment for them.
  if (names.size === 0) return { open: env, secret: {} };
  const open = Object.assign(envVars(), env);
  const secret = envVars();
  for (const name of names) {
    const value = spec.params[name];
    if (value !== undefined && open[name] === value) {
      secret[name] = value;
      delete open[name];
    }
  }
  return { open, secret };
}

/**
 * A task's environment with a run's integrations: their values join the secret part (never a
 * file), their raw key-value names only where neither the run nor the task sets the variable,
 * and the task's own `env` wins over all of them.
 */
export function withIntegrations(
  env: Readonly<Record<string, string>>,
  parts: SplitEnvironment,
  integrations: { readonly secret: Readonly<Record<string, string>>; readonly raw: Readonly<Record<string, string>> },
  taskEnv: Readonly<Record<string, string>>,
): { env: Record<string, string>; open: Readonly<Record<string, string>>; secret: Record<string, string> } {
  const secret = Object.assign(envVars(), parts.secret);
  for (const [name, value] of Object.entries(integrations.raw)) {
    if (!Object.hasOwn(env, name)) secret[name] = value;
  }
  for (const [name, value] of Object.entries(integrations.secret)) {
    if (!Object.hasOwn(taskEnv, name)) secret[name] = value;
  }
  return { env: Object.assign(envVars(), env, secret), open: parts.open, secret };
}

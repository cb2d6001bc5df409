import { envPrefix } from "../language/env-prefix.js";
import { resourceKind } from "../kinds/index.js";
import { envKey, envValue as str, envVars } from "./env-values.js";
import type { Mapping } from "../language/model.js";

export { envVars } from "./env-values.js";

/** A dependency (IN or OUT) of a run as the job sees it. */
export interface DependencyView {
  readonly name: string;
  readonly operation: "IN" | "OUT";
  readonly type: string;
  readonly objectId: string;
  readonly version:
    | {
        readonly id: number;
        readonly versionNumber: number;
        readonly versionName: string;
        readonly propertyBag: Mapping;
      }
    | undefined;
  /** Legacy `pointer`, or the versionTemplate for new-syntax resources. */
  readonly pointer: Mapping;
  readonly seed: Mapping;
  /** `$JOB_PATH/<IN|OUT>/<name>`. */
  readonly path: string;
  /** `$JOB_PATH/<IN|OUT>/<name>/<type>`. */
  readonly stateDir: string;
}

const NAME_OK = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True when `name` is a valid environment-variable name. */
export function isEnvName(name: string): boolean {
  return NAME_OK.test(name);
}

/** Flattens nested objects and arrays into `<prefix>_<KEY>` / `<prefix>_<i>` variables. */
export function flattenEnv(prefix: string, value: unknown, out: Record<string, string>): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => flattenEnv(`${prefix}_${i}`, v, out));
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const key = envKey(k);
      if (key !== "") flattenEnv(`${prefix}_${key}`, v, out);
    }
  } else out[prefix] = str(value);
}

/**
 * The variables one dependency gives a job (shippable.md §3.4): the common ones, then its
 * kind's (`ResourceKind.env`: a gitRepo's commit, a params resource's keys). User data (bare
 * params keys) is returned apart, because platform variables win over it.
 */
export function dependencyEnv(dep: DependencyView): { platform: Record<string, string>; user: Record<string, string> } {
  const n = envPrefix(dep.name);
  const bag = dep.version?.propertyBag ?? {};
  const platform = envVars();
  platform[`${n}_NAME`] = dep.name;
  platform[`${n}_TYPE`] = dep.type;
  platform[`${n}_ID`] = dep.objectId;
  platform[`${n}_OPERATION`] = dep.operation;
  platform[`${n}_PATH`] = dep.path;
  platform[`${n}_META`] = dep.path;
  platform[`${n}_STATE`] = dep.stateDir;
  platform[`${n}_VERSIONNAME`] = dep.version?.versionName ?? "";
  platform[`${n}_VERSIONNUMBER`] = dep.version === undefined ? "" : String(dep.version.versionNumber);
  platform[`${n}_VERSIONID`] = dep.version === undefined ? "" : String(dep.version.id);
  const sourceName = bag.sourceName ?? dep.pointer.sourceName;
  if (sourceName !== undefined) platform[`${n}_SOURCENAME`] = str(sourceName);
  flattenEnv(`${n}_POINTER`, dep.pointer, platform);
  flattenEnv(`${n}_SEED`, dep.seed, platform);
  const kind = resourceKind(dep.type).env(n, dep, bag);
  return { platform: Object.assign(platform, kind.platform), user: Object.assign(envVars(), kind.user) };
}

/** The job-level part of a run's environment (shippable.md §8.3). */
export interface JobEnvInput {
  readonly jobName: string;
  readonly jobType: string;
  readonly runId: number;
  readonly runNumber: number;
  readonly jobPath: string;
  readonly triggeredBy: string;
  readonly triggeredById: string;
  readonly triggeredByUser: string;
  readonly buildUrl: string;
}

/** Job variables, also under the job's own prefix so shipctl treats the job like a resource. */
export function jobEnv(j: JobEnvInput): Record<string, string> {
  const state = `${j.jobPath}/state`;
  const previous = `${j.jobPath}/previousState`;
  const p = envPrefix(j.jobName);
  const env = Object.assign(envVars(), {
    JOB_NAME: j.jobName,
    JOB_TYPE: j.jobType,
    BUILD_ID: String(j.runId),
    BUILD_NUMBER: String(j.runNumber),
    BUILD_JOB_ID: String(j.runId),
    BUILD_JOB_NUMBER: "1",
    JOB_PATH: j.jobPath,
    BUILD_DIR: j.jobPath,
    JOB_STATE: state,
    JOB_PREVIOUS_STATE: previous,
    SHARED_DIR: `${j.jobPath}/shared`,
    JOB_INTEGRATIONS: `${j.jobPath}/integrations`,
    JOB_MESSAGE: `${j.jobPath}/message.json`,
    JOB_TRIGGERED_BY_NAME: j.triggeredBy,
    JOB_TRIGGERED_BY_ID: j.triggeredById,
    JOB_TRIGGERED_BY_USER: j.triggeredByUser,
    BUILD_URL: j.buildUrl,
  });
  env[`${p}_NAME`] = j.jobName;
  env[`${p}_TYPE`] = j.jobType;
  env[`${p}_PATH`] = j.jobPath;
  env[`${p}_META`] = j.jobPath;
  env[`${p}_STATE`] = state;
  env[`${p}_PREVIOUS_STATE`] = previous;
  env[`${p}_OPERATION`] = "OUT";
  return env;
}

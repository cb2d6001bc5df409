import { envPrefix } from "../language/env-prefix.js";
import type { Mapping } from "../language/model.js";

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

function str(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return JSON.stringify(value) ?? "";
}

/**
 * A key used after a prefix (`<N>_PARAMS_<KEY>`, `<N>_POINTER_<KEY>`): characters outside
 * `[A-Za-z0-9_]` dropped, upper-cased; leading digits stay, since the prefix already starts the
 * name (shipctl.md "Environment"; shipctl's `to_key` looks for `<N>_PARAMS_1ST`). May be empty.
 */
function envKey(key: string): string {
  return key.replace(/[^A-Za-z0-9_]/g, "").toUpperCase();
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
 * The variables one dependency gives a job (shippable.md §3.4, §4.1, §4.3). User data (bare
 * params keys) is returned apart, because platform variables win over it.
 */
export function dependencyEnv(dep: DependencyView): { platform: Record<string, string>; user: Record<string, string> } {
  const n = envPrefix(dep.name);
  const bag = dep.version?.propertyBag ?? {};
  const platform: Record<string, string> = {
    [`${n}_NAME`]: dep.name,
    [`${n}_TYPE`]: dep.type,
    [`${n}_ID`]: dep.objectId,
    [`${n}_OPERATION`]: dep.operation,
    [`${n}_PATH`]: dep.path,
    [`${n}_META`]: dep.path,
    [`${n}_STATE`]: dep.stateDir,
    [`${n}_VERSIONNAME`]: dep.version?.versionName ?? "",
    [`${n}_VERSIONNUMBER`]: dep.version === undefined ? "" : String(dep.version.versionNumber),
    [`${n}_VERSIONID`]: dep.version === undefined ? "" : String(dep.version.id),
  };
  const sourceName = bag.sourceName ?? dep.pointer.sourceName;
  if (sourceName !== undefined) platform[`${n}_SOURCENAME`] = str(sourceName);
  flattenEnv(`${n}_POINTER`, dep.pointer, platform);
  flattenEnv(`${n}_SEED`, dep.seed, platform);
  const user: Record<string, string> = {};
  if (dep.type === "params") {
    const params = bag.params;
    if (params !== null && typeof params === "object" && !Array.isArray(params)) {
      for (const [k, v] of Object.entries(params)) {
        if (k === "secure") continue;
        const bare = k.replace(/[^A-Za-z0-9_]/g, "").replace(/^[0-9]+/, "");
        if (bare !== "") user[bare] = str(v);
        const upper = envKey(k);
        if (upper !== "") platform[`${n}_PARAMS_${upper}`] = str(v);
      }
    }
  }
  if (dep.type === "gitRepo") Object.assign(platform, gitRepoEnv(n, dep, bag));
  return { platform, user };
}

function gitRepoEnv(n: string, dep: DependencyView, bag: Mapping): Record<string, string> {
  const sha = (bag.shaData ?? {}) as Record<string, unknown>;
  const branch = sha.branchName ?? dep.pointer.branch ?? "";
  return {
    [`${n}_BRANCH`]: str(branch),
    [`${n}_BASE_BRANCH`]: str(sha.baseCommitRef ?? branch),
    [`${n}_HEAD_BRANCH`]: str(sha.headCommitRef ?? branch),
    [`${n}_COMMIT`]: str(sha.commitSha ?? dep.version?.versionName ?? ""),
    [`${n}_COMMIT_MESSAGE`]: str(sha.commitMessage),
    [`${n}_COMMITTER`]: str(sha.committer),
    [`${n}_PULL_REQUEST`]: sha.isPullRequest === true ? str(sha.pullRequestNumber) : "false",
    [`${n}_IS_PULL_REQUEST`]: sha.isPullRequest === true ? "true" : "false",
    [`${n}_IS_GIT_TAG`]: sha.isGitTag === true ? "true" : "false",
    [`${n}_GIT_TAG_NAME`]: str(sha.gitTagName),
    [`${n}_IS_RELEASE`]: sha.isRelease === true ? "true" : "false",
    [`${n}_HTTPS_URL`]: str(dep.pointer.sourceName),
    [`${n}_REPO_FULL_NAME`]: str(dep.pointer.sourceName),
  };
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
  return {
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
    [`${p}_NAME`]: j.jobName,
    [`${p}_TYPE`]: j.jobType,
    [`${p}_PATH`]: j.jobPath,
    [`${p}_META`]: j.jobPath,
    [`${p}_STATE`]: state,
    [`${p}_PREVIOUS_STATE`]: previous,
    [`${p}_OPERATION`]: "OUT",
  };
}

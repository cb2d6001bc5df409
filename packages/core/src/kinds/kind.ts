import type { DependencyView } from "../engine/env.js";
import type { Mapping } from "../language/model.js";

/**
 * The home of one resource type: everything the engine, the runner and the validator decide
 * by the type of a resource. Adding a type is one file here (and one materialiser in the
 * runner when it has files). A kind is data plus pure functions: no I/O.
 */
export interface ResourceKind {
  /** The resource type, as written in the YAML (`gitRepo`). */
  readonly type: string;
  /** What a version holds, one sentence (docs/language.md "Resource types"). */
  readonly holds: string;
  /** Where its versions come from, one sentence (docs/language.md "Resource types"). */
  readonly versionsFrom: string;
  /** What a job sees of it beside the common variables and `version.json`, one sentence (docs/language.md). */
  readonly jobSees: string;
  /** Whether a change of its definition data (`versionTemplate`, `pointer`/`seed`/`version`) creates a version. */
  readonly yamlEditCreatesVersion: boolean;
  /** Whether such a version (not the first) triggers its consumers: only `trigger` does. */
  readonly yamlEditTriggers: boolean;
  /** Whether a job's OUT creates a version (when the output changed). */
  readonly outCreatesVersion: boolean;
  /**
   * Whether a version from outside (put-version, git, a job's OUT) triggers the consumers. A kind
   * that never triggers carries no dependency either: it may form cycles.
   */
  readonly versionsTrigger: boolean;
  /**
   * Keys of the bag that describe where the version came from (a commit, a webhook delivery):
   * `overwrite` keeps them and `replicate` copies only them. Undefined: `replicate` copies the
   * whole bag and `overwrite` keeps nothing.
   */
  readonly originKeys: readonly string[] | undefined;
  /** The bag key under which written key/values land (`params`), or undefined for the bag itself. */
  readonly valuesKey: string | undefined;
  /** What the runner puts in `IN/<name>/<type>/`: the version's files, or a git checkout. */
  readonly inData: "files" | "checkout";
  /** Whether the files a job puts in `OUT/<name>/<type>/` become the version's files, named after their archive. */
  readonly outFiles: boolean;
  /** Validation: may be both IN and OUT of one job, and may close a cycle. */
  readonly inAndOutOfOneJob: boolean;
  /** Validation: a hook's `NOTIFY` may name it. */
  readonly notifyTarget: boolean;
  /** Whether a `release` job may bump its version (the semantic version it holds as `versionName`). */
  readonly releaseBase: boolean;
  /**
   * The kind-specific variables of a dependency of this type (`<N>` is its prefix), beside the
   * common ones of `dependencyEnv`. `user` is user data (bare params keys): platform variables win over it.
   */
  env(n: string, dep: DependencyView, bag: Mapping): KindEnv;
}

/** Variables a kind adds to a job's environment. */
export interface KindEnv {
  readonly platform: Readonly<Record<string, string>>;
  readonly user: Readonly<Record<string, string>>;
}

const NO_ENV: KindEnv = { platform: {}, user: {} };

/** The behaviour of a type with nothing special: every field a kind leaves out. */
export const DEFAULT_KIND_BEHAVIOUR: Omit<ResourceKind, "type" | "holds" | "versionsFrom"> = {
  jobSees: "nothing more",
  yamlEditCreatesVersion: true,
  yamlEditTriggers: false,
  outCreatesVersion: true,
  versionsTrigger: true,
  originKeys: undefined,
  valuesKey: undefined,
  inData: "files",
  outFiles: false,
  inAndOutOfOneJob: false,
  notifyTarget: false,
  releaseBase: false,
  env: () => NO_ENV,
};

/** A kind from the fields that differ from the default behaviour; frozen. */
export function defineKind(
  kind: Pick<ResourceKind, "type" | "holds" | "versionsFrom"> & Partial<ResourceKind>,
): ResourceKind {
  return Object.freeze({ ...DEFAULT_KIND_BEHAVIOUR, ...kind });
}

import type { BlobStore, DependencySpec } from "@causeway/core";

/** What a materialiser may use: the run's blob store and how to run a command. */
export interface MaterialiseContext {
  readonly blobs: BlobStore;
  /** The runner's environment, for the commands a materialiser runs (git). */
  readonly env: Readonly<Record<string, string>>;
  readonly graceMs: number;
  /** Aborted when the run is cancelled: a materialiser stops its commands. */
  readonly signal: AbortSignal;
  /** The fields of an integration by name: credentials of a remote repository. */
  readonly integrations?: ((name: string) => Promise<Readonly<Record<string, string>> | undefined>) | undefined;
}

/**
 * The runner's side of a resource kind (core `kinds/`): the files a kind puts in a run's
 * workspace. The skeleton (`IN|OUT/<name>/`, the data dir `<type>/` and `version.json`) is laid
 * out for every dependency by `createWorkspace`; a materialiser fills the data dir of an IN
 * before the tasks. Contract: `fillIn` writes only under `dataDir` (an empty directory it
 * owns), throws a `CausewayError` naming what failed, and stops when `signal` aborts.
 */
export interface Materialiser {
  /** Said on the "Setup" group before an IN is filled, when filling takes long ("cloning..."). */
  readonly announce: string | undefined;
  /** Fills `IN/<name>/<type>/`; returns what it did for the console ("" for nothing). */
  fillIn(dep: DependencySpec, dataDir: string, ctx: MaterialiseContext): Promise<string>;
  /** Whether the files a job puts in `OUT/<name>/<type>/` are saved as the new version's files. */
  readonly savesOutFiles: boolean;
}

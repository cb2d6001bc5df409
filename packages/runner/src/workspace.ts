import { CausewayError, secretParamsOf } from "@causeway/core";
import { mkdirSync, renameSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import type { DependencySpec, RunSpec } from "@causeway/core";
import { withPath } from "./file-errors.js";

/**
 * The workspace of a run (`$JOB_PATH`, design §4, shippable.md §8.1):
 * `IN/<name>/`, `OUT/<name>/` (each with `version.json` and the data dir `<type>/`), `state/`,
 * `previousState/`, `shared/`, `integrations/` (when the job has integrations), `scripts/`
 * (generated task scripts) and `message.json` (the RunSpec without secret parameter values).
 * No file of a workspace holds the value of a secret parameter.
 */

/** The directories of a workspace, by role. */
export interface WorkspacePaths {
  readonly root: string;
  readonly state: string;
  readonly previousState: string;
  readonly shared: string;
  readonly integrations: string;
  readonly scripts: string;
  readonly message: string;
}

/** The paths of the workspace rooted at `root` (an absolute path without trailing slash). */
export function workspacePaths(root: string): WorkspacePaths {
  return {
    root,
    state: `${root}/state`,
    previousState: `${root}/previousState`,
    shared: `${root}/shared`,
    integrations: `${root}/integrations`,
    scripts: `${root}/scripts`,
    message: `${root}/message.json`,
  };
}

/**
 * The sub-directories created in every workspace. `IN/` and `OUT/` are created when the run
 * has such dependencies, `integrations/` when the job lists integrations: every directory
 * costs a metadata write, on the path to the run's first script line.
 */
export const LAYOUT_DIRS = ["state", "previousState", "shared", "scripts"] as const;

/** `<root>/<IN|OUT>/<name>` and its data dir `<root>/<IN|OUT>/<name>/<type>`. */
export function dependencyPaths(
  root: string,
  dep: Pick<DependencySpec, "name" | "operation" | "type">,
): { path: string; dataDir: string } {
  const path = `${root}/${dep.operation}/${dep.name}`;
  return { path, dataDir: `${path}/${dep.type}` };
}

/** Throws `WORKSPACE_INVALID` unless `name` can be one directory name. */
export function checkDirName(what: string, name: string): void {
  if (typeof name !== "string" || name === "" || name === "." || name === ".." || /[/\\\0\n\r]/.test(name)) {
    throw new CausewayError(
      "WORKSPACE_INVALID",
      `${what} ${JSON.stringify(name)} cannot be a directory name in the workspace`,
    );
  }
}

/** The file calls that lay out a workspace's skeleton: the runner's option, where tests inject faults. */
export interface WorkspaceFs {
  mkdir(path: string): void;
  writeFile(path: string, data: string, mode?: number): void;
}

/** The workspace calls of the local disk. */
export const NODE_WORKSPACE_FS: WorkspaceFs = {
  mkdir: (path) => mkdirSync(path),
  writeFile: (path, data, mode) => writeFileSync(path, data, mode === undefined ? undefined : { mode }),
};

/**
 * Creates the skeleton of a run's workspace: the root `<workDir>/<runId>-<attempt>` (or
 * `<runId>-<attempt>-<random>` when that exists: a second execution of an attempt never reuses
 * a workspace; `workDir` is created when missing), the layout directories, `message.json`, the
 * task scripts (`scriptsFor(root)`: they hold paths under the root), and each dependency's
 * directory, data dir and `version.json`. These are a
 * dozen metadata calls on tiny files, made synchronously: workspaces live on tmpfs by default,
 * where a call costs microseconds, less than a promise and thread-pool round trip (measured on
 * the 1,000-job DAG: the async version cost more event-loop time). On a disk work directory
 * they block longer. Returns the root; a workspace whose creation failed is removed. A failed
 * call's error names its path (`ENOSPC: no space left on device, write '<root>/message.json'`).
 */
export function createWorkspace(
  workDir: string,
  spec: RunSpec,
  scriptsFor: (root: string) => readonly string[],
  fs: WorkspaceFs = NODE_WORKSPACE_FS,
): string {
  const mkdir = (path: string): void => named(path, () => fs.mkdir(path));
  const writeFile = (path: string, data: string, mode?: number): void =>
    named(path, () => fs.writeFile(path, data, mode));
  const root = createRoot(workDir, spec.run.id, spec.run.attempt, mkdir);
  try {
    const scripts = scriptsFor(root);
    for (const d of LAYOUT_DIRS) mkdir(`${root}/${d}`);
    for (const op of ["IN", "OUT"] as const) {
      if (spec.dependencies.some((dep) => dep.operation === op)) mkdir(`${root}/${op}`);
    }
    if (spec.job.integrations.length > 0) mkdir(`${root}/integrations`);
    // Owner-only, as the scripts: they hold the run's parameters and environment (never the
    // values of secret parameters, which reach a task only through its process environment).
    writeFile(`${root}/message.json`, runMessage(spec), 0o600);
    scripts.forEach((text, i) => writeFile(`${root}/scripts/task-${i + 1}.sh`, text, 0o600));
    for (const dep of spec.dependencies) {
      const { path, dataDir } = dependencyPaths(root, dep);
      mkdir(path);
      mkdir(dataDir);
      writeFile(`${path}/version.json`, versionJson(dep));
    }
  } catch (error) {
    // A half-made workspace is nobody's: remove it before reporting.
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return root;
}

function named(path: string, call: () => void): void {
  try {
    call();
  } catch (error) {
    throw withPath(error, path);
  }
}

function createRoot(workDir: string, runId: number, attempt: number, mkdir: (path: string) => void): string {
  const first = `${workDir}/${runId}-${attempt}`;
  for (let tries = 0; ; tries++) {
    const root = tries === 0 ? first : `${first}-${randomBytes(4).toString("hex")}`;
    try {
      mkdir(root);
      return root;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Owner-only: the work directory holds every run's scripts and files.
      if (code === "ENOENT" && tries < 3) mkdirSync(workDir, { recursive: true, mode: 0o700 });
      else if (code !== "EEXIST" || tries >= 5) throw error;
    }
  }
}

/** Deletes a directory tree; resolves when it is gone (never rejects). */
export type TreeDeleter = (dir: string) => Promise<void>;

const BATCH_SIZE = 64;
const BATCH_MS = 500;

/** The lowest free space the remover saw while a task ran (see `WorkspaceRemover.watchFree`). */
export interface FreeSpaceWatch {
  /** The lowest free bytes seen right before a deletion since the last `restart`, if any. */
  readonly lowest: number | undefined;
  /** Forgets what was seen: a new task starts. */
  restart(): void;
  end(): void;
}

/**
 * Removes workspaces off the critical path: a workspace is renamed into the current trash
 * batch at once (one call, so a run's result never waits for a large checkout to be deleted),
 * and a batch is deleted as a whole when it holds 64 workspaces or is half a second old. With
 * a `deleter` (the task launcher's `rm -rf`), deleting costs this process nothing; without
 * one, Node deletes it, one batch at a time. `idle` resolves when every removal started so far
 * is over.
 */
export class WorkspaceRemover {
  readonly #pending = new Set<Promise<void>>();
  readonly #watches = new Set<{ lowest: number | undefined }>();
  readonly #deleter: TreeDeleter;
  readonly #trashIn: string | undefined;
  #last: Promise<void> = Promise.resolve();
  #batch: { dir: string; count: number; timer: NodeJS.Timeout } | undefined;

  /**
   * `trashIn`: where trash batches are made (default: the workspace's parent); a slot's run
   * moves its workspace out of the slot (slots.ts).
   */
  constructor(deleter?: TreeDeleter, trashIn?: string) {
    this.#trashIn = trashIn;
    this.#deleter =
      deleter ??
      ((dir) =>
        rm(dir, { recursive: true, force: true, maxRetries: 2 }).then(
          () => undefined,
          () => undefined,
        ));
  }

  /**
   * Moves `root` into the trash batch; deletes it in place when it cannot be moved. Returns
   * whether it was moved (else it is still there until `idle`).
   */
  remove(root: string): boolean {
    const at = root.lastIndexOf("/");
    const parent = this.#trashIn ?? root.slice(0, at);
    let batch = this.#batch;
    try {
      if (batch === undefined) {
        const dir = `${parent}/.trash-${process.pid}-${randomBytes(4).toString("hex")}`;
        mkdirSync(dir);
        batch = { dir, count: 0, timer: setTimeout(() => this.#seal(), BATCH_MS).unref() };
        this.#batch = batch;
      }
      renameSync(root, `${batch.dir}/${root.slice(at + 1)}`);
      if (++batch.count >= BATCH_SIZE) this.#seal();
      return true;
    } catch {
      this.#delete(root);
      return false;
    }
  }

  /**
   * Watches the free space of the file system deletions free: right before each one while the
   * watch lasts, its free bytes. A task that failed on a full work directory is told apart by
   * the free space after it ended; a deletion between its failed write and that look would hide
   * that the directory was full, unless the look also takes what the deletion saw before.
   */
  watchFree(): FreeSpaceWatch {
    const watch = { lowest: undefined as number | undefined };
    this.#watches.add(watch);
    return {
      get lowest() {
        return watch.lowest;
      },
      restart: () => {
        watch.lowest = undefined;
      },
      end: () => {
        this.#watches.delete(watch);
      },
    };
  }

  /** Resolves when the removals started so far are over. */
  async idle(): Promise<void> {
    this.#seal();
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  #seal(): void {
    const batch = this.#batch;
    if (batch === undefined) return;
    this.#batch = undefined;
    clearTimeout(batch.timer);
    this.#delete(batch.dir);
  }

  // One deletion at a time: deletes are background work and must not crowd the file system.
  #delete(dir: string): void {
    const done = this.#last.then(() => {
      this.#seeFree(dir);
      return this.#deleter(dir);
    });
    this.#last = done;
    this.#pending.add(done);
    void done.then(() => this.#pending.delete(done));
  }

  #seeFree(dir: string): void {
    if (this.#watches.size === 0) return;
    // The tree is still there: its own file system's free space.
    const free = freeBytes(dir);
    if (free === undefined) return;
    for (const watch of this.#watches) watch.lowest = Math.min(watch.lowest ?? free, free);
  }
}

/** The bytes this process may still write on the file system of `dir`; undefined when unknown. */
export function freeBytes(dir: string): number | undefined {
  try {
    const fs = statfsSync(dir);
    // root may use the blocks reserved for it; others may not.
    return (process.getuid?.() === 0 ? fs.bfree : fs.bavail) * fs.bsize;
  } catch {
    return undefined;
  }
}

/** The key of the bag under which `version.json` shows the resource's YAML (Shippable's `propertyBag.yml`). */
export const YML_KEY = "yml";

/**
 * The `version.json` of a dependency (shippable.md §3.1, §8.1), in both shapes: Causeway's flat
 * keys (`versionName`, `propertyBag`, `pointer`, `seed` at the top) and Shippable's, which scripts
 * read with jq: the chosen version nested under `version` (`.version.versionName`,
 * `.version.versionNumber`, `.version.propertyBag.<KEY>`) and the resource's YAML under
 * `.propertyBag.yml` (`.propertyBag.yml.pointer.<KEY>`). The top-level `propertyBag` is
 * therefore the version's bag plus `yml`, unless the version's bag has a `yml` of its own, which
 * wins; the runner drops the `yml` it added when it reads an OUT's `version.json` back
 * (`outVersionBag`).
 */
export function versionJson(dep: DependencySpec): string {
  const v = dep.version;
  const bag = v?.propertyBag ?? {};
  const yml = { name: dep.name, type: dep.type, pointer: dep.pointer, seed: dep.seed };
  return JSON.stringify({
    resourceName: dep.name,
    resourceType: dep.type,
    operation: dep.operation,
    resourceId: dep.objectId,
    versionId: v?.id ?? null,
    versionNumber: v?.versionNumber ?? null,
    versionName: v?.versionName ?? null,
    propertyBag: Object.hasOwn(bag, YML_KEY) ? bag : { ...bag, [YML_KEY]: yml },
    pointer: dep.pointer,
    seed: dep.seed,
    name: dep.name,
    type: dep.type,
    version:
      v === undefined
        ? null
        : { versionId: v.id, versionNumber: v.versionNumber, versionName: v.versionName, propertyBag: bag },
  });
}

/**
 * The bag of an OUT's `version.json` read back after the run: without the `yml` that
 * `versionJson` added (or that `shipctl replicate` copied from an IN), unless the OUT's version
 * had a `yml` of its own.
 */
export function outVersionBag(dep: DependencySpec, bag: Readonly<Record<string, unknown>>): Record<string, unknown> {
  if (!Object.hasOwn(bag, YML_KEY) || Object.hasOwn(dep.version?.propertyBag ?? {}, YML_KEY)) return { ...bag };
  const rest = { ...bag };
  delete rest[YML_KEY];
  return rest;
}

/**
 * `message.json`: the RunSpec with the values of secret parameters left out, both of the spec's
 * `params` and of the run's own copy (`run.params`); `run.secretParams` names them.
 */
export function runMessage(spec: RunSpec): string {
  const secret = specSecrets(spec);
  const open = (params: Readonly<Record<string, string>>): Record<string, string> =>
    Object.fromEntries(Object.entries(params).filter(([name]) => !secret.has(name)));
  return JSON.stringify({ ...spec, run: { ...spec.run, params: open(spec.run.params) }, params: open(spec.params) });
}

/**
 * The names of a run's secret parameters: recorded with the run, or declared secret by the job
 * (its definition as the run executes it), among the spec's and the run's parameters.
 */
export function specSecrets(spec: RunSpec): ReadonlySet<string> {
  return new Set(secretParamsOf({ ...spec.run.params, ...spec.params }, spec.job.params, spec.run.secretParams));
}

import { createHash } from "node:crypto";
import { accessSync, chmodSync, constants, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CausewayError } from "@causeway/core";

/**
 * The work directory: where a runner (the server's embedded one, or `causeway runner`) makes
 * the workspaces of runs, which hold their scripts, inputs and state. Only the runner's user may
 * read it, and nobody else may choose or redirect it:
 * - by default it is a new directory on tmpfs, `/dev/shm/causeway-<hash of the data directory
 *   (the runner's own directory)>-<random>`, made by mkdtemp (mode 0700; a name nobody can create
 *   first): a workspace is a dozen directories and files made and removed per run, which cost
 *   microseconds on tmpfs and far more on a disk (each a new inode). The directories an earlier
 *   process of the same data directory left there (killed before it could remove its own) are
 *   removed at start, when they are real directories of the user; anything else with such a
 *   name (a symbolic link, another user's directory) is left alone and reported;
 * - when /dev/shm is not writable, `fallback` (`<data>/workspaces` by default); or the path a
 *   caller gives (`causeway up --work-dir`, `causeway runner --workspaces`). Such a directory
 *   is created with mode 0700; one that exists must be a real directory (not a symbolic link)
 *   of the runner's user, else WORK_DIR_UNSAFE and nothing is touched; it is then made 0700 and
 *   emptied, entry by entry, without following any link.
 */

/** `causeway-<first 12 hex digits of sha256(dataDir)>`: the name of a data directory's work directories on tmpfs. */
export function workDirPrefix(dataDir: string): string {
  return `causeway-${createHash("sha256").update(dataDir).digest("hex").slice(0, 12)}`;
}

/** Options of `prepareWorkDir`. */
export interface WorkDirOptions {
  /** The absolute data directory. */
  readonly dataDir: string;
  /** A work directory chosen by the caller; default: a new one on tmpfs, else `fallback`. */
  readonly workDir?: string | undefined;
  /** The work directory where tmpfs cannot be written. Default `<dataDir>/workspaces`. */
  readonly fallback?: string;
  /** Where tmpfs is. Default `/dev/shm`. */
  readonly shm?: string;
  /** Told about each entry of tmpfs that has the name of a work directory but was left alone. */
  readonly onLeftAlone?: (path: string, why: string) => void;
}

/**
 * Makes the work directory of a server that is starting (see the module comment) and returns
 * its path. Throws WORK_DIR_UNSAFE for an existing directory that someone else could read or
 * redirect. Synchronous: it runs once, before anything else uses the directory.
 */
export function prepareWorkDir(options: WorkDirOptions): string {
  if (options.workDir !== undefined) return ownPrivateDir(options.workDir);
  const shm = options.shm ?? "/dev/shm";
  if (!isWritableDir(shm)) return ownPrivateDir(options.fallback ?? join(options.dataDir, "workspaces"));
  const prefix = workDirPrefix(options.dataDir);
  for (const name of readdirSync(shm)) {
    if (name !== prefix && !name.startsWith(`${prefix}-`)) continue;
    const path = join(shm, name);
    const problem = unsafe(path);
    // The data directory's lock makes this server the only one of its data directory: a
    // directory of ours with its name is a leftover of an earlier one.
    if (problem === undefined) rmSync(path, { recursive: true, force: true });
    else options.onLeftAlone?.(path, problem);
  }
  return mkdtempSync(join(shm, `${prefix}-`));
}

function isWritableDir(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Why `path` (which exists) cannot be a work directory of ours, or undefined when it can. */
function unsafe(path: string): string | undefined {
  const info = lstatSync(path);
  if (info.isSymbolicLink()) return "it is a symbolic link";
  if (!info.isDirectory()) return "it is not a directory";
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) return `it belongs to another user (uid ${info.uid}, not ${uid})`;
  return undefined;
}

/** Creates `path` owner-only, or makes an existing one of ours so and empties it. */
function ownPrivateDir(path: string): string {
  // lstat first: mkdir would follow a (dangling) symbolic link at `path`.
  if (lstatSync(path, { throwIfNoEntry: false }) === undefined) {
    try {
      mkdirSync(path, { recursive: true, mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  const problem = unsafe(path);
  if (problem !== undefined) {
    throw new CausewayError("WORK_DIR_UNSAFE", `the work directory ${path} cannot be used: ${problem}`, {
      hint: `remove it if you do not know where it came from (ls -ld ${path}), or use another directory`,
    });
  }
  // Ours: others lose their way in first, then whatever is inside goes (workspaces left by a
  // killed server belong to no run any more). rm never follows a link it meets.
  chmodSync(path, 0o700);
  for (const entry of readdirSync(path)) {
    try {
      rmSync(join(path, entry), { recursive: true, force: true });
    } catch {
      // An entry that cannot be removed is skipped: workspace names never reuse one.
    }
  }
  return path;
}

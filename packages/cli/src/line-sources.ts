import { readFile, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import {
  collectSources,
  type SourceArgsIo,
  isGitUrl,
  PROJECT_FILE_NAME,
  splitGitUrl,
  usageError,
  type LineSource,
} from "@causeway/core";

/** A source of a line, ready to read: its name and its directory on this machine. */
export interface LocalSource {
  readonly name: string;
  /** Absolute. For a git source, its checkout. */
  readonly dir: string;
  /** The git URL it came from, with the branch and the commit checked out. */
  readonly git?: { readonly url: string; readonly branch?: string; readonly commit: string };
}

/**
 * The sources of a line. `named`: its files' paths start with their source's name (anything but
 * one plain directory: several arguments, a project, a git URL), so that adding or removing a
 * source leaves the paths of the others as they were.
 */
export interface ResolvedSources {
  readonly sources: readonly LocalSource[];
  readonly named: boolean;
}

/** Fetches a git source into a directory of this machine (the CLI: a temporary clone). */
export type GitFetch = (source: LineSource & { url: string }) => Promise<LocalSource>;

/** The machine's side of `collectSources`. */
const nodeSourceIo: SourceArgsIo = {
  resolve,
  dirname,
  basename,
  join,
  kind: async (path) => {
    const info = await stat(path).catch(() => undefined);
    return info === undefined ? undefined : info.isDirectory() ? "dir" : "file";
  },
  readText: (path) => readFile(path, "utf8").catch(() => undefined),
};

/**
 * The sources that the arguments of `validate`, `plan`, `apply` (and `up`) name: each a
 * directory, a git URL (`URL#branch`, fetched by `fetchGit`), or a project: a
 * `causeway.project.yml`, or a directory holding one, which stands for the sources it lists
 * (paths relative to it). Names are checked (`PROJECT_INVALID`: two sources of one name).
 */
export async function resolveSources(
  args: readonly string[],
  cwd: string,
  fetchGit: GitFetch,
): Promise<ResolvedSources> {
  const { specs, named } = await collectSources(args, cwd, nodeSourceIo, ({ arg, problem }) =>
    usageError(
      problem === "missing"
        ? `no such directory: ${arg}`
        : `not a directory: ${arg} (give a pipeline directory, a git URL or a ${PROJECT_FILE_NAME})`,
    ),
  );
  const out: LocalSource[] = [];
  for (const s of specs) {
    if (s.url !== undefined) {
      out.push(await fetchGit({ ...s, url: s.url }));
      continue;
    }
    const dir = resolve(s.base, s.path ?? ".");
    const info = await stat(dir).catch(() => undefined);
    if (info === undefined) throw usageError(`source ${s.name}: directory not found: ${dir}`);
    if (!info.isDirectory()) throw usageError(`source ${s.name}: not a directory: ${dir}`);
    out.push({ name: s.name, dir });
  }
  return { sources: out, named };
}

/**
 * The arguments with `--branch B` given to every git URL that names no branch (`URL` becomes
 * `URL#B`). A `--branch` with no git URL among the arguments is a usage error.
 */
export function withBranch(args: readonly string[], branch: string | undefined): string[] {
  if (branch === undefined) return [...args];
  if (branch === "" || branch.startsWith("-") || /[\s\0]/.test(branch))
    throw usageError(`--branch must be a branch name, got ${JSON.stringify(branch)}`);
  if (!args.some(isGitUrl)) throw usageError("--branch goes with a git URL (URL or URL#branch)");
  return args.map((a) => (isGitUrl(a) && splitGitUrl(a).branch === undefined ? `${splitGitUrl(a).url}#${branch}` : a));
}

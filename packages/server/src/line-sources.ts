import { execFile } from "node:child_process";
import { mkdir, readFile, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import {
  collectSources,
  type SourceArgsIo,
  CausewayError,
  displayUrl,
  PROJECT_FILE_NAME,
  redactUrls,
  sourceOfFile,
  sourcesFs,
  unreadableSourceFs,
  type AppliedSource,
  type PipelineFs,
} from "@causeway/core";
import { nodePipelineFs } from "./node-fs.js";
import { badServerOptions } from "./options.js";

/**
 * A source of the server's line: a directory it watches, or a git repository it keeps a clone
 * of in `<data>/sources/<name>` and polls.
 */
export type ServerSource =
  | { readonly kind: "dir"; readonly name: string; readonly dir: string }
  | {
      readonly kind: "git";
      readonly name: string;
      /** The clone, in the data directory. */
      readonly dir: string;
      readonly url: string;
      /** The branch followed (default: the remote's default branch, found at the first clone). */
      readonly branch: string | undefined;
    };

/** The server's sources. `named`: its files' paths start with their source's name (not one plain directory). */
export interface ServerLine {
  readonly sources: readonly ServerSource[];
  readonly named: boolean;
  /** The project files the sources were read from (absolute), watched by the server. */
  readonly projects: readonly string[];
}

/** Where the clones of git sources are kept, inside the data directory. */
export const SOURCES_DIR = "sources";

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
 * The sources the server's arguments name: directories, git URLs (`URL#branch`), projects (a
 * `causeway.project.yml`, or a directory holding one: the sources it lists, paths relative to
 * it). A bad list is `SERVER_BAD_OPTIONS` (a missing directory) or `PROJECT_INVALID`.
 */
export async function resolveServerLine(args: readonly string[], dataDir: string, cwd: string): Promise<ServerLine> {
  const { specs, named, projects } = await collectSources(args, cwd, nodeSourceIo, ({ arg, problem }) =>
    badServerOptions([
      problem === "missing"
        ? `dir: the pipeline directory ${arg} does not exist`
        : `dir: ${arg} is not a directory, a git URL or a ${PROJECT_FILE_NAME}`,
    ]),
  );
  const sources: ServerSource[] = [];
  for (const s of specs) {
    if (s.url !== undefined) {
      sources.push({
        kind: "git",
        name: s.name,
        dir: join(dataDir, SOURCES_DIR, s.name),
        url: s.url,
        branch: s.branch,
      });
      continue;
    }
    const dir = resolve(s.base, s.path ?? ".");
    const info = await stat(dir).catch(() => undefined);
    if (info?.isDirectory() !== true)
      throw badServerOptions([`dir: source ${s.name}: ${dir} does not exist or is not a directory`]);
    sources.push({ kind: "dir", name: s.name, dir });
  }
  return { sources, named, projects };
}

/** Options of the git commands of sources. */
export interface SourceGitOptions {
  /** The environment of git (PATH at least). */
  readonly env: Readonly<Record<string, string>>;
}

const GIT_TIMEOUT_MS = 120_000;

function git(args: readonly string[], options: SourceGitOptions, cwd?: string): Promise<string> {
  const env = { ...options.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" };
  return new Promise((resolvePromise, reject) => {
    execFile(
      "git",
      args,
      { env, timeout: GIT_TIMEOUT_MS, encoding: "utf8", maxBuffer: 1 << 20, ...(cwd === undefined ? {} : { cwd }) },
      (error, stdout, stderr) => {
        if (error === null) return resolvePromise(stdout);
        // git's messages may repeat a URL with its credentials: never past this point.
        const why = redactUrls(stderr.trim().split("\n").filter(Boolean).pop() ?? error.message);
        reject(new CausewayError("GIT_FAILED", `git ${args[0] ?? ""} failed: ${why}`));
      },
    );
  });
}

/** A git source's clone at a commit. */
export interface SourceCheckout {
  readonly commit: string;
  /** The branch checked out (the one asked for, or the remote's default). */
  readonly branch: string;
  /** The first line of the commit's message. */
  readonly subject: string;
}

/**
 * Brings the clone of a git source to the head of its branch: clones it when there is no
 * clone of that URL yet (a clone of another URL is replaced), else fetches; then checks out
 * the fetched head, detached, discarding nothing but the clone's own state. `GIT_FAILED` when
 * the repository cannot be reached or the branch does not exist.
 */
export async function syncSource(
  source: Extract<ServerSource, { kind: "git" }>,
  options: SourceGitOptions,
): Promise<SourceCheckout> {
  const remote = await git(["config", "--get", "remote.origin.url"], options, source.dir).catch(() => undefined);
  if (remote?.trim() !== source.url) {
    await rm(source.dir, { recursive: true, force: true });
    await mkdir(dirname(source.dir), { recursive: true, mode: 0o700 });
    const branch = source.branch === undefined ? [] : ["--branch", source.branch];
    await git(["clone", "--quiet", "--no-checkout", ...branch, "--", source.url, source.dir], options);
  }
  const ref = source.branch ?? (await defaultBranch(source, options));
  await git(["fetch", "--quiet", "origin", "--", `+refs/heads/${ref}:refs/remotes/origin/${ref}`], options, source.dir);
  await git(
    ["-c", "advice.detachedHead=false", "checkout", "--quiet", "--force", "--detach", `refs/remotes/origin/${ref}`],
    options,
    source.dir,
  );
  const [commit = "", subject = ""] = (await git(["log", "-1", "--format=%H%x00%s"], options, source.dir))
    .trim()
    .split("\0");
  return { commit, branch: ref, subject };
}

/**
 * The commit at the head of a git source's branch on its remote (`git ls-remote`), without
 * fetching anything: what the poller compares with the commit applied.
 */
export async function remoteHead(
  source: Extract<ServerSource, { kind: "git" }>,
  branch: string,
  options: SourceGitOptions,
): Promise<string | undefined> {
  const out = await git(["ls-remote", "--", source.url, `refs/heads/${branch}`], options);
  const sha = out.trim().split(/\s/)[0];
  return sha === undefined || sha === "" ? undefined : sha;
}

async function defaultBranch(
  source: Extract<ServerSource, { kind: "git" }>,
  options: SourceGitOptions,
): Promise<string> {
  const out = await git(["ls-remote", "--symref", "--", source.url, "HEAD"], options);
  const match = /^ref: refs\/heads\/(\S+)\s+HEAD/m.exec(out);
  if (match?.[1] === undefined)
    throw new CausewayError(
      "GIT_FAILED",
      `${displayUrl(source.url)} has no default branch: give one (${displayUrl(source.url)}#main)`,
    );
  return match[1];
}

/** The sources of the line as the apply history records them. */
export function appliedSources(
  line: ServerLine,
  checkouts: ReadonlyMap<string, SourceCheckout>,
): AppliedSource[] | undefined {
  if (!line.named) return undefined;
  return line.sources.map((s): AppliedSource => {
    if (s.kind === "dir") return { name: s.name, dir: s.dir };
    const at = checkouts.get(s.name);
    const branch = at?.branch ?? s.branch;
    return {
      name: s.name,
      url: displayUrl(s.url),
      ...(branch === undefined ? {} : { branch }),
      ...(at === undefined ? {} : { commit: at.commit }),
    };
  });
}

/**
 * The files of the server's line of named sources, as one `PipelineFs` (`sourcesFs`), looked at
 * again at each load: a source whose directory cannot be read (gone, a repository not cloned
 * yet) lists the files the line as applied has from it and refuses them
 * (`unreadableSourceFs`), so its objects are kept as they were.
 */
export function lineFs(line: () => ServerLine, appliedFiles: () => ReadonlyMap<string, string>): PipelineFs {
  let current: PipelineFs = sourcesFs([]);
  const look = async (): Promise<PipelineFs> => {
    const files = [...appliedFiles().values()];
    const parts = await Promise.all(
      line().sources.map(async (s) => {
        const info = await stat(s.dir).catch(() => undefined);
        if (info?.isDirectory() === true) return { name: s.name, fs: nodePipelineFs(s.dir) };
        const mine = files.filter((f) => sourceOfFile(f) === s.name).map((f) => f.slice(s.name.length + 1));
        const where = s.kind === "git" ? `${displayUrl(s.url)} is not cloned` : `${s.dir} cannot be read`;
        return { name: s.name, fs: unreadableSourceFs(mine, `source ${s.name}: ${where}`) };
      }),
    );
    return sourcesFs(parts);
  };
  return {
    async list(dir) {
      if (dir === "") current = await look();
      return current.list(dir);
    },
    read: (path) => current.read(path),
  };
}

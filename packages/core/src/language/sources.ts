import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import { CausewayError } from "../errors.js";
import { isSkippedDirectory } from "./files.js";
import type { DirEntry, PipelineFs } from "./load.js";

/**
 * Where the definitions of a line come from (Shippable's sync repositories): a directory, or a
 * git repository and branch. A line may come from several sources sharing one namespace: names
 * resolve across all of them, and each object's `origin.file` starts with its source's name
 * (`app/causeway.yml`) unless the line is one plain directory.
 */
export interface LineSource {
  /** Unique in the line; the first segment of its files' paths (unless the line is one plain directory). */
  readonly name: string;
  /** A directory (relative to the project file or the working directory, or absolute). */
  readonly path?: string;
  /** A git URL (https, ssh, git, file, or `user@host:path`). */
  readonly url?: string;
  /** The branch of `url` (default: the remote's default branch). */
  readonly branch?: string;
}

/** The base name of the project file: the sources of a line, listed (docs/language.md). */
export const PROJECT_FILE_NAME = "causeway.project.yml";

/** Whether a command-line argument is a git URL rather than a path (`URL#branch` included). */
export function isGitUrl(text: string): boolean {
  return /^(https?|ssh|git|file):\/\//.test(text) || /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:/.test(text);
}

/**
 * A git URL as it may be shown and recorded: the user part of an http(s) URL (`https://token@`,
 * `https://user:token@`) and the password of any other is replaced by `***`, so a credential
 * written into a URL never reaches a log line, the apply history or an answer of the API.
 */
export function displayUrl(url: string): string {
  if (/^https?:\/\//i.test(url)) return url.replace(/^(https?:\/\/)[^/@]*@/i, "$1***@");
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, "$1:***@");
}

/** A text (git's error message) with every URL in it shown as `displayUrl` shows it. */
export function redactUrls(text: string): string {
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/gi, (url) => displayUrl(url));
}

/** A git URL argument `URL#branch` split into the URL and the branch (none when not given). */
export function splitGitUrl(text: string): { url: string; branch?: string } {
  const at = text.lastIndexOf("#");
  if (at <= 0) return { url: text };
  const branch = text.slice(at + 1);
  return branch === "" ? { url: text.slice(0, at) } : { url: text.slice(0, at), branch };
}

/**
 * The default name of a source: the last segment of its directory or URL, without `.git`
 * (`../infra` -> `infra`, `https://host/acme/app-config.git` -> `app-config`).
 */
export function defaultSourceName(location: string): string {
  const trimmed = location.replace(/[/\\]+$/, "");
  const last = trimmed.split(/[/\\:]/).pop() ?? "";
  return last.replace(/\.git$/, "");
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * Checks the sources of a line: each name usable as a path segment (letters, digits, `_`, `.`,
 * `-`, not starting with `.`), no name twice, each source a path or a URL. Throws
 * `PROJECT_INVALID` naming every problem.
 */
export function checkSources(sources: readonly LineSource[], where = "the command line"): void {
  const problems: string[] = [];
  const seen = new Map<string, LineSource>();
  for (const s of sources) {
    const at = s.path ?? s.url ?? "?";
    if (!NAME.test(s.name) || isSkippedDirectory(s.name))
      problems.push(
        `source ${JSON.stringify(s.name)} (${at}): a name is letters, digits, _, . and -, not starting with .`,
      );
    if ((s.path === undefined) === (s.url === undefined))
      problems.push(`source ${s.name}: give either a path or a url`);
    const other = seen.get(s.name);
    if (other !== undefined)
      problems.push(`two sources are named ${s.name} (${other.path ?? other.url ?? "?"} and ${at})`);
    seen.set(s.name, s);
  }
  if (problems.length > 0)
    throw new CausewayError("PROJECT_INVALID", `${where}: ${problems.join("; ")}`, {
      hint: `name the sources in a ${PROJECT_FILE_NAME} (sources: - name: app, path: ./app)`,
      details: { problems },
    });
}

/**
 * Reads a project file: `sources:`, a list of `{name?, path}` or `{name?, url, branch?}`. A
 * problem throws `PROJECT_INVALID` with the file, line and column of each. Names default to
 * `defaultSourceName`. Paths stay as written (the caller resolves them against the file's
 * directory).
 */
export function parseProjectFile(text: string, file: string): LineSource[] {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true });
  const problems: string[] = [];
  const at = (node: Node | null | undefined): string => {
    const offset = node?.range?.[0] ?? 0;
    const pos = counter.linePos(offset);
    return `${file}:${pos.line}:${pos.col}`;
  };
  for (const e of doc.errors)
    problems.push(`${file}:${e.linePos?.[0].line ?? 1}:${e.linePos?.[0].col ?? 1} ${e.message}`);
  const sources: LineSource[] = [];
  if (problems.length === 0) {
    const root = doc.contents;
    const list = isMap(root) ? root.get("sources", true) : undefined;
    if (!isMap(root) || !isSeq(list)) problems.push(`${at(root)} expected a mapping with a list under sources:`);
    else {
      for (const item of list.items) {
        if (!isMap(item)) {
          problems.push(`${at(item as Node)} a source is a mapping: {name, path} or {name, url, branch}`);
          continue;
        }
        const fields: Record<string, string> = {};
        for (const pair of item.items) {
          const key = isScalar(pair.key) ? String(pair.key.value) : "";
          const value = pair.value;
          if (!["name", "path", "url", "branch"].includes(key)) {
            problems.push(`${at(pair.key as Node)} unknown key ${JSON.stringify(key)} (name, path, url, branch)`);
          } else if (!isScalar(value) || typeof value.value !== "string" || value.value === "") {
            problems.push(`${at((value as Node | null) ?? (pair.key as Node))} ${key} must be a non-empty string`);
          } else fields[key] = value.value;
        }
        const location = fields.path ?? fields.url;
        if (location === undefined) {
          problems.push(`${at(item)} a source needs a path or a url`);
          continue;
        }
        if (fields.path !== undefined && fields.url !== undefined) {
          problems.push(`${at(item)} a source has a path or a url, not both`);
          continue;
        }
        if (fields.branch !== undefined && fields.url === undefined)
          problems.push(`${at(item)} branch goes with a url`);
        if (fields.url !== undefined && !isGitUrl(fields.url))
          problems.push(
            `${at(item)} url ${JSON.stringify(fields.url)} is not a git URL (https, ssh, git, file, or user@host:path)`,
          );
        sources.push({
          name: fields.name ?? defaultSourceName(location),
          ...(fields.path === undefined ? {} : { path: fields.path }),
          ...(fields.url === undefined ? {} : { url: fields.url }),
          ...(fields.branch === undefined ? {} : { branch: fields.branch }),
        });
      }
      if (list.items.length === 0) problems.push(`${at(list)} sources: lists no source`);
    }
  }
  if (problems.length > 0)
    throw new CausewayError("PROJECT_INVALID", `${file}: ${problems.join("; ")}`, {
      hint: `${PROJECT_FILE_NAME} lists sources: - {name: app, path: ./app} or - {name: infra, url: URL, branch: main}`,
      details: { problems },
    });
  checkSources(sources, file);
  return sources;
}

/**
 * One `PipelineFs` over the directories of several sources: its root lists each source as a
 * directory named after it, so the loader walks every source at once (one namespace, one set of
 * size caps) and each file's path starts with its source's name (also with one source: a
 * line of named sources keeps its paths when a source is added or removed).
 */
export function sourcesFs(sources: readonly { readonly name: string; readonly fs: PipelineFs }[]): PipelineFs {
  const byName = new Map(sources.map((s) => [s.name, s.fs]));
  const route = (path: string): [PipelineFs, string] => {
    const slash = path.indexOf("/");
    const name = slash < 0 ? path : path.slice(0, slash);
    const fs = byName.get(name);
    if (fs === undefined) throw new Error(`no source named ${name}`);
    return [fs, slash < 0 ? "" : path.slice(slash + 1)];
  };
  return {
    async list(dir) {
      if (dir === "") return sources.map((s): DirEntry => ({ name: s.name, kind: "directory", size: 0 }));
      const [fs, rest] = route(dir);
      return fs.list(rest);
    },
    read(path) {
      const [fs, rest] = route(path);
      return fs.read(rest);
    },
  };
}

/** The source of a file of a line of named sources: its path's first segment. */
export function sourceOfFile(file: string): string {
  const slash = file.indexOf("/");
  return slash < 0 ? file : file.slice(0, slash);
}

/**
 * The `PipelineFs` of a source that cannot be read (a directory gone, a repository never
 * cloned): it lists the files the line as applied has from it (`paths`, relative to the source)
 * and refuses to read each with `reason`, so the loader refuses them
 * (`PIPELINE_FILE_UNREADABLE`) and an apply keeps their objects as they were, references to
 * them resolving, as for any file that cannot be read.
 */
export function unreadableSourceFs(paths: readonly string[], reason: string): PipelineFs {
  return {
    list(dir) {
      const prefix = dir === "" ? "" : `${dir}/`;
      const entries = new Map<string, DirEntry>();
      for (const path of paths) {
        if (!path.startsWith(prefix)) continue;
        const rest = path.slice(prefix.length);
        const slash = rest.indexOf("/");
        const name = slash < 0 ? rest : rest.slice(0, slash);
        entries.set(name, { name, kind: slash < 0 ? "file" : "directory", size: 0 });
      }
      return Promise.resolve([...entries.values()]);
    },
    read: () => Promise.reject(new Error(reason)),
  };
}

/** What `collectSources` needs of a machine: paths and two reads, so that core does no I/O. */
export interface SourceArgsIo {
  /** `path` made absolute from `base`. */
  resolve(base: string, path: string): string;
  dirname(path: string): string;
  basename(path: string): string;
  join(dir: string, name: string): string;
  /** What is at `path`: a directory, a file, or nothing (undefined). */
  kind(path: string): Promise<"dir" | "file" | undefined>;
  /** The file's text, or undefined when it cannot be read. */
  readText(path: string): Promise<string | undefined>;
}

/** An argument that names no source: nothing is there, or a file that is not a project file. */
export interface SourceArgProblem {
  readonly arg: string;
  readonly problem: "missing" | "not-a-directory";
}

/** The sources that arguments name, each with the directory its relative `path` is from. */
export interface CollectedSources {
  readonly specs: readonly (LineSource & { readonly base: string })[];
  /** Its files' paths start with their source's name: anything but one plain directory. */
  readonly named: boolean;
  /** The project files read (absolute). */
  readonly projects: readonly string[];
}

/**
 * The sources that the arguments of `validate`, `plan`, `apply` and `up` name, the one rule of
 * the CLI and the server: each argument is a git URL (`URL#branch`), a directory, or a project
 * (a `causeway.project.yml`, or a directory holding one, which stands for the sources it lists,
 * their paths relative to it). `fail` turns an argument that names nothing into the caller's
 * error; two sources of one name are `PROJECT_INVALID` (`checkSources`).
 */
export async function collectSources(
  args: readonly string[],
  cwd: string,
  io: SourceArgsIo,
  fail: (problem: SourceArgProblem) => Error,
): Promise<CollectedSources> {
  const specs: (LineSource & { base: string })[] = [];
  const projects: string[] = [];
  let named = args.length !== 1;
  for (const arg of args) {
    if (isGitUrl(arg)) {
      const { url, branch } = splitGitUrl(arg);
      specs.push({ name: defaultSourceName(url), url, ...(branch === undefined ? {} : { branch }), base: cwd });
      named = true;
      continue;
    }
    const target = io.resolve(cwd, arg);
    const kind = await io.kind(target);
    if (kind === undefined) throw fail({ arg, problem: "missing" });
    if (kind === "file" && io.basename(target) !== PROJECT_FILE_NAME) throw fail({ arg, problem: "not-a-directory" });
    const project = kind === "dir" ? io.join(target, PROJECT_FILE_NAME) : target;
    const text = await io.readText(project);
    if (text === undefined) {
      specs.push({ name: defaultSourceName(target), path: target, base: cwd });
      continue;
    }
    for (const s of parseProjectFile(text, project)) specs.push({ ...s, base: io.dirname(project) });
    projects.push(project);
    named = true;
  }
  checkSources(specs);
  return { specs, named, projects };
}

import { createHash } from "node:crypto";
import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { branchSelected, buildsOnCommit, readBranchFilter, type BranchFilter, type ResourceDef } from "@causeway/core";
import { displayUrl, gitAuth, repositoryLocation } from "@causeway/runner";
import type { Integrations } from "../integrations.js";
import { branchOf, commitOf, describeCommit, runGit } from "./git-commits.js";
import { pollEvery, recordCommit } from "./local-git-source.js";
import type { SourceSink, SourceWatch, VersionSource } from "./version-source.js";

const FETCH_TIMEOUT_MS = 10 * 60 * 1000;

/** Options of `remoteGitSource`. */
export interface RemoteGitSourceOptions {
  /** The time between polls of a repository while it changes (and after each change). */
  readonly intervalMs: number;
  /** The longest time between polls: while nothing changes, the time doubles up to this. */
  readonly maxIntervalMs: number;
  /** The environment of git (PATH, HOME for ssh's own known hosts). */
  readonly env: Readonly<Record<string, string>>;
  /** Where the bare copies of polled repositories are kept (`<data>/git-cache`). */
  readonly cacheDir: string;
  /** The credentials of a resource's `integration` (`privateKey`, `token`...: see `gitAuth`). */
  readonly integrations: Integrations;
}

/**
 * `gitRepo` resources whose `sourceName` is a remote git URL (`https://`, `ssh://`, `git://`,
 * `user@host:path`): `git ls-remote` of the repository, backing off while idle (the time
 * between polls doubles from `intervalMs` to `maxIntervalMs` while nothing changes and comes
 * back to `intervalMs` on a change). A new head of a selected branch (`branch`, or `branches:
 * {only, except}`, or the default branch) is fetched into a bare copy under `cacheDir` and
 * recorded as the local source does: the same `shaData`, key `<branch>@<commit>`, no trigger
 * when only pipeline files changed. Credentials come from the resource's integration, through
 * owner-only files that live as long as each git command.
 */
export function remoteGitSource(options: RemoteGitSourceOptions): VersionSource {
  // Resources of one URL share its bare copy: their fetches take turns.
  const turns = new Map<string, Promise<unknown>>();
  const inTurn = <T>(cache: string, work: () => Promise<T>): Promise<T> => {
    const result = (turns.get(cache) ?? Promise.resolve()).then(work, work);
    const settled = result.catch(() => undefined);
    turns.set(cache, settled);
    void settled.then(() => {
      if (turns.get(cache) === settled) turns.delete(cache);
    });
    return result;
  };
  return {
    name: "remote-git",
    createdBy: "git",
    watchKey(def) {
      const url = remoteUrl(def);
      if (url === undefined) return undefined;
      return JSON.stringify([url, readBranchFilter(dataOf(def)), def.integration ?? null]);
    },
    watch(def, sink) {
      const url = remoteUrl(def) ?? "";
      return watchRemote(url, readBranchFilter(dataOf(def)), def.integration, sink, options, inTurn);
    },
  };
}

function dataOf(def: ResourceDef): Readonly<Record<string, unknown>> {
  return { ...def.template, ...def.pointer };
}

function remoteUrl(def: ResourceDef): string | undefined {
  if (def.type !== "gitRepo" || !buildsOnCommit(dataOf(def))) return undefined;
  const location = repositoryLocation(def.pointer.sourceName ?? def.template.sourceName);
  return location?.kind === "remote" ? location.url : undefined;
}

function watchRemote(
  url: string,
  filter: BranchFilter,
  integration: string | undefined,
  sink: SourceSink,
  options: RemoteGitSourceOptions,
  inTurn: <T>(cache: string, work: () => Promise<T>) => Promise<T>,
): SourceWatch {
  const cache = join(options.cacheDir, `${createHash("sha256").update(url).digest("hex").slice(0, 24)}.git`);
  // branch -> the commit of its latest version, as this watch knows it.
  const known = new Map<string, string>();
  let delay = options.intervalMs;

  const poll = async (): Promise<void> => {
    let changed = false;
    const fields = integration === undefined ? undefined : await options.integrations.get(integration);
    const auth = await gitAuth(fields);
    try {
      const env = { ...options.env, ...auth.env };
      const { heads, defaultBranch } = parseLsRemote(await runGit(["ls-remote", "--symref", "--", url], env));
      for (const [branch, head] of heads) {
        if (!branchSelected(filter, branch, defaultBranch)) continue;
        const latest = sink.latest();
        const before =
          known.get(branch) ?? (branchOf(latest?.propertyBag) === branch ? commitOf(latest?.propertyBag) : undefined);
        if (head === before) continue;
        changed = true;
        const commit = await inTurn(cache, async () => {
          await fetchInto(cache, url, branch, env);
          return describeCommit(cache, head, before, branch, env);
        });
        await recordCommit(sink, commit, branch);
        known.set(branch, head);
      }
    } finally {
      await auth.cleanup();
      delay = changed ? options.intervalMs : Math.min(delay * 2, options.maxIntervalMs);
    }
  };
  return pollEvery(() => delay, sink, displayUrl(url), poll);
}

/** The branch heads (`refs/heads/*`) and the default branch (`HEAD`'s target) of `ls-remote --symref`. */
export function parseLsRemote(output: string): { heads: Map<string, string>; defaultBranch: string | undefined } {
  const heads = new Map<string, string>();
  let defaultBranch: string | undefined;
  for (const line of output.split("\n")) {
    const symref = /^ref: refs\/heads\/(\S+)\tHEAD$/.exec(line);
    if (symref !== null) {
      defaultBranch = symref[1];
      continue;
    }
    const ref = /^([0-9a-f]{40,64})\trefs\/heads\/(\S+)$/.exec(line);
    if (ref?.[1] !== undefined && ref[2] !== undefined) heads.set(ref[2], ref[1]);
  }
  return { heads, defaultBranch };
}

async function fetchInto(
  cache: string,
  url: string,
  branch: string,
  env: Readonly<Record<string, string>>,
): Promise<void> {
  const exists = await stat(cache).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await mkdir(cache, { recursive: true, mode: 0o700 });
    await runGit(["init", "--quiet", "--bare", cache], env);
  }
  await runGit(
    ["-C", cache, "fetch", "--quiet", "--no-tags", "--", url, `+refs/heads/${branch}:refs/heads/${branch}`],
    env,
    // A first fetch of a large repository takes a while: ten minutes, not thirty seconds.
    FETCH_TIMEOUT_MS,
  );
}

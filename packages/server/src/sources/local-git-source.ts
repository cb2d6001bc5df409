import { isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";
import { buildsOnCommit, shortVersionName, type ResourceDef } from "@causeway/core";
import { commitOf, describeCommit, runGit, type CommitVersion } from "./git-commits.js";
import type { SourceSink, SourceWatch, VersionSource } from "./version-source.js";

/** Options of `localGitSource`. */
export interface LocalGitSourceOptions {
  /** The time between the end of one poll of a repository and the start of the next. */
  readonly intervalMs: number;
  /** The environment of git (PATH at least). */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The `gitRepo` resources whose `sourceName` is a local directory or a file:// URL: every
 * `intervalMs`, `git rev-parse` of the resource's `branch` (default HEAD); when the head differs
 * from the commit of the resource's latest version, a new version is recorded (created by
 * `git`, key `<branch>@<commit>`), which triggers the resource's consumers as a push would,
 * unless the commits since the previous version changed only pipeline files. Off the
 * scheduling path: a slow or failing repository only delays its own versions. A failure is
 * logged once until it changes.
 */
export function localGitSource(options: LocalGitSourceOptions): VersionSource {
  return {
    name: "git",
    createdBy: "git",
    watchKey(def) {
      if (def.type !== "gitRepo" || !buildsOnCommit({ ...def.template, ...def.pointer })) return undefined;
      const repo = localRepository(sourceNameOf(def));
      return repo === undefined ? undefined : `${repo}\0${String(branchOfDef(def))}`;
    },
    watch(def, sink) {
      const repo = localRepository(sourceNameOf(def)) ?? "";
      return pollEvery(options.intervalMs, sink, repo, () =>
        pollLocal(sink, repo, revision(branchOfDef(def)), options.env),
      );
    },
  };
}

async function pollLocal(
  sink: SourceSink,
  repo: string,
  branch: string | undefined,
  env: Readonly<Record<string, string>>,
): Promise<void> {
  if (branch === undefined) throw new Error("its branch is not a plain branch name");
  const git = (args: string[]): Promise<string> => runGit(["-C", repo, ...args], env);
  const head = (await git(["rev-parse", "--verify", "--quiet", `${branch}^{commit}`])).trim();
  const known = commitOf(sink.latest()?.propertyBag);
  if (head === "" || head === known) return;
  let branchName = branch;
  if (branch === "HEAD") branchName = (await git(["symbolic-ref", "--short", "-q", "HEAD"]).catch(() => "HEAD")).trim();
  const commit = await describeCommit(repo, head, known, branchName, env);
  await recordCommit(sink, commit, branchName);
}

/**
 * Records a commit's version: said on the log first (the lines of the runs it triggers follow
 * it), keyed by branch and commit, triggering nothing when only pipeline files changed.
 */
export async function recordCommit(sink: SourceSink, commit: CommitVersion, branchName: string): Promise<void> {
  const head = commit.versionName;
  const message = commit.propertyBag.shaData.commitMessage;
  const subject = message.split("\n")[0] ?? "";
  const quiet = commit.onlyPipelineFiles;
  sink.logger.info(
    `${sink.resource}: new commit ${shortVersionName(head)} on ${branchName}${subject === "" ? "" : `: ${subject}`}${quiet ? " (only pipeline files changed: it triggers nothing)" : ""}`,
    { event: "commit", resource: sink.resource, commit: head, branch: branchName },
  );
  const { versionName, propertyBag } = commit;
  const { duplicate } = await sink.record(
    { versionName, propertyBag },
    `${branchName}@${head}`,
    quiet ? { trigger: false } : {},
  );
  // A restart, or a branch seen again, finds a commit whose key was recorded: nothing new.
  if (duplicate)
    sink.logger.info(
      `${sink.resource}: commit ${shortVersionName(head)} on ${branchName} was recorded before: no new version`,
      { event: "commit", resource: sink.resource, commit: head, branch: branchName },
    );
}

/**
 * Polls with `poll` now and then `delayMs()` after the end of each poll, until stopped; a
 * failure is logged once until it changes (and `onError` may stretch the next delay). `stop`
 * waits for a poll in progress.
 */
export function pollEvery(
  intervalMs: number | (() => number),
  sink: SourceSink,
  where: string,
  poll: () => Promise<void>,
): SourceWatch {
  const delay = typeof intervalMs === "number" ? () => intervalMs : intervalMs;
  let lastProblem: string | undefined;
  let timer: unknown;
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = (): void => {
    timer = undefined;
    running = poll()
      .then(
        () => {
          lastProblem = undefined;
        },
        (error: unknown) => {
          const problem = error instanceof Error ? error.message : String(error);
          if (!stopped && lastProblem !== problem)
            sink.logger.warn(`${sink.resource}: cannot poll ${where}: ${problem}`, {
              event: "poll",
              resource: sink.resource,
              repository: where,
            });
          lastProblem = problem;
        },
      )
      .finally(() => {
        running = undefined;
        if (!stopped) timer = sink.timers.setTimeout(tick, delay());
      });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      if (timer !== undefined) sink.timers.clearTimeout(timer);
      await running;
    },
  };
}

function sourceNameOf(def: ResourceDef): unknown {
  return def.pointer.sourceName ?? def.template.sourceName;
}

function branchOfDef(def: ResourceDef): unknown {
  return def.pointer.branch ?? def.template.branch;
}

/**
 * The local path of a repository source: an absolute path or a file:// URL; else undefined.
 * (A relative `./path` was made absolute when its line was applied: see relative-sources.ts.)
 */
export function localRepository(sourceName: unknown): string | undefined {
  if (typeof sourceName !== "string" || sourceName === "" || sourceName.includes("\0")) return undefined;
  if (sourceName.startsWith("file://")) {
    try {
      return fileURLToPath(sourceName);
    } catch {
      return undefined;
    }
  }
  return isAbsolute(sourceName) ? sourceName : undefined;
}

function revision(branch: unknown): string | undefined {
  if (branch === undefined || branch === null || branch === "") return "HEAD";
  if (typeof branch !== "string" || branch.startsWith("-") || /[\s\0^~:?*[\\]/.test(branch)) return undefined;
  return branch;
}

import { execFile } from "node:child_process";
import { isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";
import { shortVersionName } from "@causeway/core";
import type { Engine } from "@causeway/engine";
import type { Logger } from "./logger.js";

/** A running poller; `stop` waits for a poll in progress. */
export interface GitPoller {
  /** Polls every repository now (tests and the first poll at start). */
  pollNow(): Promise<void>;
  stop(): Promise<void>;
}

/** Options of `startGitPoller`. */
export interface GitPollerOptions {
  readonly engine: Engine;
  readonly intervalMs: number;
  /** The environment of git (PATH at least). */
  readonly env: Readonly<Record<string, string>>;
  readonly logger: Logger;
}

const GIT_TIMEOUT_MS = 30_000;

/**
 * Watches the `gitRepo` resources whose `sourceName` is a local directory or a file:// URL:
 * every `intervalMs`, `git rev-parse` of the resource's `branch` (default HEAD); when the head
 * differs from the commit of the resource's latest version, a new version is created from
 * outside (created by `git`), which triggers the resource's consumers as a push would. Off the
 * scheduling path: a slow or failing repository only delays its own versions. A failure is
 * logged once until it changes.
 */
export function startGitPoller(options: GitPollerOptions): GitPoller {
  const { engine, logger } = options;
  const env = { ...options.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" };
  const lastProblem = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const git = (repo: string, args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(
        "git",
        ["-C", repo, ...args],
        { env, timeout: GIT_TIMEOUT_MS, encoding: "utf8" },
        (error, stdout, stderr) => {
          if (error === null) resolve(stdout);
          else reject(new Error(stderr.trim() || error.message));
        },
      );
    });

  const pollOne = async (name: string, repo: string, branch: string): Promise<void> => {
    const head = (await git(repo, ["rev-parse", "--verify", "--quiet", `${branch}^{commit}`])).trim();
    const latest = engine.model.latest.get(name);
    const known = commitOf(latest?.propertyBag);
    if (head === "" || head === known) return;
    const [parents = "", committer = "", message = ""] = (
      await git(repo, ["log", "-1", "--format=%P%x00%cn <%ce>%x00%B", head])
    ).split("\0");
    let branchName = branch;
    if (branch === "HEAD")
      branchName = (await git(repo, ["symbolic-ref", "--short", "-q", "HEAD"]).catch(() => "HEAD")).trim();
    if (stopped) return;
    // Said before the version is put: the lines of the runs it triggers follow it.
    const subject = message.trim().split("\n")[0] ?? "";
    logger.info(
      `${name}: new commit ${shortVersionName(head)} on ${branchName}${subject === "" ? "" : `: ${subject}`}`,
      {
        event: "commit",
        resource: name,
        commit: head,
        branch: branchName,
      },
    );
    await engine.putVersion(
      name,
      {
        versionName: head,
        propertyBag: {
          shaData: {
            commitSha: head,
            beforeCommitSha: known ?? parents.split(" ")[0] ?? "",
            branchName,
            commitMessage: message.trim(),
            committer,
            isPullRequest: false,
            isGitTag: false,
            isRelease: false,
          },
        },
      },
      "git",
    );
  };

  const poll = async (): Promise<void> => {
    for (const [name, entry] of engine.model.objects) {
      if (stopped) return;
      if (entry.kind !== "resource" || entry.def.type !== "gitRepo") continue;
      const repo = localRepository(entry.def.pointer.sourceName ?? entry.def.template.sourceName);
      if (repo === undefined) continue;
      const branch = revision(entry.def.pointer.branch ?? entry.def.template.branch);
      try {
        if (branch === undefined) throw new Error("its branch is not a plain branch name");
        await pollOne(name, repo, branch);
        lastProblem.delete(name);
      } catch (error) {
        const problem = error instanceof Error ? error.message : String(error);
        if (!stopped && lastProblem.get(name) !== problem)
          logger.warn(`${name}: cannot poll ${repo}: ${problem}`, { event: "poll", resource: name, repository: repo });
        lastProblem.set(name, problem);
      }
    }
  };

  const pollNow = (): Promise<void> => {
    running ??= poll().finally(() => {
      running = undefined;
    });
    return running;
  };

  const tick = (): void => {
    void pollNow()
      .catch((error: unknown) => logger.error("git poll failed", error))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, options.intervalMs);
      });
  };
  tick();

  return {
    pollNow,
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
    },
  };
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

function commitOf(bag: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const shaData = bag?.shaData;
  if (shaData === null || typeof shaData !== "object") return undefined;
  const sha = (shaData as Record<string, unknown>).commitSha;
  return typeof sha === "string" && sha !== "" ? sha : undefined;
}

import { execFile } from "node:child_process";
import { changesOnlyPipelineFiles } from "@causeway/core";

const GIT_TIMEOUT_MS = 30_000;

/** Runs git with `args` and resolves its stdout; rejects with git's message (or after `timeoutMs`). */
export function runGit(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  timeoutMs = GIT_TIMEOUT_MS,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      [...args],
      {
        env: { ...env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
        timeout: timeoutMs,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error === null) resolve(stdout);
        else reject(new Error(stderr.trim() || error.message));
      },
    );
  });
}

/** A commit as a gitRepo version holds it (Shippable's `shaData`, the keys a poll can know). */
export interface CommitVersion {
  readonly versionName: string;
  readonly propertyBag: { shaData: Record<string, unknown> & { commitMessage: string } };
  /** True when the commits since `known` changed only the line's own pipeline files. */
  readonly onlyPipelineFiles: boolean;
}

/**
 * Describes commit `head` of the repository at `repo` (a working or bare repository that has
 * it) as the version of a push to `branchName`: `shaData` with the commit, the one before it
 * (`known`, the commit of the resource's previous version, else the first parent), the
 * message and the committer. `onlyPipelineFiles` compares with `known` when the repository has
 * it, else with the commit's first parent; a first version (no `known`) always counts.
 */
export async function describeCommit(
  repo: string,
  head: string,
  known: string | undefined,
  branchName: string,
  env: Readonly<Record<string, string>>,
): Promise<CommitVersion> {
  const git = (args: string[]): Promise<string> => runGit(["-C", repo, ...args], env);
  const [parents = "", committer = "", message = ""] = (
    await git(["log", "-1", "--format=%P%x00%cn <%ce>%x00%B", head])
  ).split("\0");
  let onlyPipelineFiles = false;
  if (known !== undefined) {
    const base = (await git(["cat-file", "-e", `${known}^{commit}`]).then(
      () => true,
      () => false,
    ))
      ? known
      : undefined;
    const paths =
      base === undefined
        ? await git(["diff-tree", "--no-commit-id", "--name-only", "-r", "--root", head])
        : await git(["diff", "--name-only", base, head]);
    onlyPipelineFiles = changesOnlyPipelineFiles(paths.split("\n").filter((p) => p !== ""));
  }
  return {
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
    onlyPipelineFiles,
  };
}

/** The commit of a gitRepo version (`shaData.commitSha`), or undefined. */
export function commitOf(bag: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const shaData = bag?.shaData;
  if (shaData === null || typeof shaData !== "object") return undefined;
  const sha = (shaData as Record<string, unknown>).commitSha;
  return typeof sha === "string" && sha !== "" ? sha : undefined;
}

/** The branch of a gitRepo version (`shaData.branchName`), or undefined. */
export function branchOf(bag: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const shaData = bag?.shaData;
  if (shaData === null || typeof shaData !== "object") return undefined;
  const branch = (shaData as Record<string, unknown>).branchName;
  return typeof branch === "string" && branch !== "" ? branch : undefined;
}

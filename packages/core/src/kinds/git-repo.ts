import { envValue as str, envVars } from "../engine/env-values.js";
import { defineKind } from "./kind.js";

/** The bag keys of a repository version that say where it came from (shippable.md §4.1). */
export const REPO_ORIGIN_KEYS = ["shaData", "webhookRequestHeaders", "webhookRequestBody"] as const;

/** `gitRepo`: a branch of a git repository; a version is one commit (shippable.md §4.1). */
export const gitRepoKind = defineKind({
  type: "gitRepo",
  holds: "a commit: `versionName` is its SHA, `propertyBag.shaData` its commit, branch and committer",
  versionsFrom:
    "new commits of the selected branches, polled (local repositories, and git URLs with backoff) or pushed by the host's webhooks (push, pull request, tag); a commit changing only pipeline files triggers nothing; an `OUT` with `replicate`; `org/repo` names: webhooks only",
  jobSees:
    "a checkout of the commit in `IN/<name>/gitRepo/`; `<N>_BRANCH`, `<N>_BASE_BRANCH`, `<N>_HEAD_BRANCH`, `<N>_COMMIT`, `<N>_COMMIT_MESSAGE`, `<N>_COMMITTER`, `<N>_PULL_REQUEST`, `<N>_IS_PULL_REQUEST`, `<N>_IS_GIT_TAG`, `<N>_GIT_TAG_NAME`, `<N>_IS_RELEASE`, `<N>_HTTPS_URL`, `<N>_REPO_FULL_NAME`",
  originKeys: REPO_ORIGIN_KEYS,
  inData: "checkout",
  env(n, dep, bag) {
    const sha = (bag.shaData ?? {}) as Record<string, unknown>;
    const branch = sha.branchName ?? dep.pointer.branch ?? "";
    const platform = envVars();
    platform[`${n}_BRANCH`] = str(branch);
    platform[`${n}_BASE_BRANCH`] = str(sha.baseCommitRef ?? branch);
    platform[`${n}_HEAD_BRANCH`] = str(sha.headCommitRef ?? branch);
    platform[`${n}_COMMIT`] = str(sha.commitSha ?? dep.version?.versionName ?? "");
    platform[`${n}_COMMIT_MESSAGE`] = str(sha.commitMessage);
    platform[`${n}_COMMITTER`] = str(sha.committer);
    platform[`${n}_PULL_REQUEST`] = sha.isPullRequest === true ? str(sha.pullRequestNumber) : "false";
    platform[`${n}_IS_PULL_REQUEST`] = sha.isPullRequest === true ? "true" : "false";
    platform[`${n}_IS_GIT_TAG`] = sha.isGitTag === true ? "true" : "false";
    platform[`${n}_GIT_TAG_NAME`] = str(sha.gitTagName);
    platform[`${n}_IS_RELEASE`] = sha.isRelease === true ? "true" : "false";
    platform[`${n}_HTTPS_URL`] = str(dep.pointer.sourceName);
    platform[`${n}_REPO_FULL_NAME`] = str(dep.pointer.sourceName);
    return { user: envVars(), platform };
  },
});

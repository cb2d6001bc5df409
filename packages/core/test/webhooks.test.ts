import { describe, expect, it } from "vitest";
import {
  deliveryKey,
  gitEventFilter,
  keptHeaders,
  matchesPattern,
  parseGitPayload,
  repoPath,
  scmHostOf,
  type GitEvent,
  type GitEventKind,
  type ShaData,
} from "../src/index.js";

// The rules of the webhook endpoints (docs/semantics.md "Webhooks", docs/language.md `webhook`
// and `gitRepo`), one row per sentence. The payloads of the hosts are tested whole, as
// published, by the server's webhooks-git.test.ts; here, the smallest payload of each shape.

const SHA = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
const BEFORE = "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327";

describe("the delivery key", () => {
  it.each([
    ["GitHub's delivery id", { "x-github-delivery": "72d3162e" }, "x-github-delivery:72d3162e"],
    ["GitLab's event UUID", { "x-gitlab-event-uuid": "13792a34" }, "x-gitlab-event-uuid:13792a34"],
    ["Bitbucket Cloud's request UUID", { "x-request-uuid": "afe2a4f5" }, "x-request-uuid:afe2a4f5"],
    ["a generic X-Request-Id", { "x-request-id": "r-1" }, "x-request-id:r-1"],
    [
      "Idempotency-Key first: stable across GitLab's retries",
      { "x-gitlab-event-uuid": "u", "idempotency-key": "k" },
      "idempotency-key:k",
    ],
  ])("%s", (_, headers, key) => {
    expect(deliveryKey(headers)).toEqual({ key, id: key.slice(key.indexOf(":") + 1) });
  });

  it.each([
    ["no delivery header: every POST is new", {}],
    ["an empty one counts as none", { "x-github-delivery": "  " }],
  ])("%s", (_, headers) => {
    expect(deliveryKey(headers)).toBeUndefined();
  });

  it.each([
    ["too long", { "x-github-delivery": "x".repeat(201) }],
    ["control characters", { "x-request-id": "a\u0001b" }],
  ])("refuses a delivery id with %s", (_, headers) => {
    expect(deliveryKey(headers)).toEqual({ invalid: expect.stringContaining("is not a delivery id") });
  });
});

describe("the headers a version keeps", () => {
  it("drops every header that carries a credential, keeps the others", () => {
    expect(
      keptHeaders({
        authorization: "Basic eDp5",
        "proxy-authorization": "p",
        cookie: "c",
        "x-hub-signature": "sha256=1",
        "x-hub-signature-256": "sha256=2",
        "x-gitlab-token": "t",
        "x-github-event": "push",
        "content-type": "application/json",
      }),
    ).toEqual({ "x-github-event": "push", "content-type": "application/json" });
  });
});

describe("which host sent a delivery", () => {
  it.each([
    [{ "x-github-event": "push" }, "github"],
    [{ "x-gitlab-event": "Push Hook" }, "gitlab"],
    [{ "x-event-key": "repo:push" }, "bitbucket"],
    [{ "content-type": "application/json" }, undefined],
  ])("%j -> %s", (headers, host) => {
    expect(scmHostOf(headers)).toBe(host);
  });
});

describe("what a payload says", () => {
  const ghRepo = { full_name: "acme/app" };
  it.each([
    [
      "a GitHub push to a branch: a commit",
      "github",
      { "x-github-event": "push" },
      {
        ref: "refs/heads/main",
        before: BEFORE,
        after: SHA,
        repository: ghRepo,
        head_commit: { message: "fix", url: "u", committer: { name: "Ann", email: "ann@x" } },
        commits: [{ added: ["a.txt"], modified: [], removed: [] }],
      },
      { kind: "commit", branchName: "main", commitSha: SHA, beforeCommitSha: BEFORE, committer: "Ann <ann@x>" },
    ],
    [
      "a GitHub push of a tag: a tag",
      "github",
      { "x-github-event": "push" },
      { ref: "refs/tags/v1.2", after: SHA, repository: ghRepo },
      { kind: "tag", isGitTag: true, gitTagName: "v1.2" },
    ],
    [
      "a GitHub pull request opened: a pull request on its base branch",
      "github",
      { "x-github-event": "pull_request" },
      {
        action: "opened",
        number: 7,
        repository: ghRepo,
        pull_request: {
          number: 7,
          title: "t",
          head: { sha: SHA, ref: "feature", repo: { full_name: "fork/app" } },
          base: { ref: "main" },
        },
      },
      {
        kind: "pullRequest",
        isPullRequest: true,
        pullRequestNumber: 7,
        branchName: "main",
        headCommitRef: "feature",
        pullRequestRepoFullName: "fork/app",
      },
    ],
    [
      "a GitHub pull request closed: a pull request close",
      "github",
      { "x-github-event": "pull_request" },
      { action: "closed", repository: ghRepo, pull_request: { head: { sha: SHA, ref: "f" }, base: { ref: "main" } } },
      { kind: "pullRequestClose", isPullRequestClose: true },
    ],
    [
      "a GitLab push: a commit, its message from the pushed commit",
      "gitlab",
      { "x-gitlab-event": "Push Hook" },
      {
        ref: "refs/heads/main",
        checkout_sha: SHA,
        project: { path_with_namespace: "g/app" },
        commits: [{ id: SHA, message: "m", author: { name: "Bo", email: "" } }],
      },
      { kind: "commit", commitMessage: "m", committer: "Bo", repoFullName: "g/app" },
    ],
    [
      "a GitLab merge request update with new commits: a pull request",
      "gitlab",
      { "x-gitlab-event": "Merge Request Hook" },
      {
        project: { path_with_namespace: "g/app" },
        object_attributes: {
          action: "update",
          oldrev: BEFORE,
          iid: 3,
          target_branch: "main",
          source_branch: "f",
          last_commit: { id: SHA },
        },
      },
      { kind: "pullRequest", pullRequestNumber: 3, beforeCommitSha: BEFORE },
    ],
    [
      "a Bitbucket push: one event per branch or tag pushed",
      "bitbucket",
      { "x-event-key": "repo:push" },
      {
        repository: { full_name: "b/app" },
        push: { changes: [{ old: null, new: { type: "tag", name: "v2", target: { hash: SHA } } }] },
      },
      { kind: "tag", gitTagName: "v2", repoFullName: "b/app" },
    ],
    [
      "a Bitbucket pull request fulfilled (merged): a pull request close",
      "bitbucket",
      { "x-event-key": "pullrequest:fulfilled" },
      {
        repository: { full_name: "b/app" },
        pullrequest: {
          id: 4,
          source: { commit: { hash: "01a3337e3abc" }, branch: { name: "f" } },
          destination: { branch: { name: "main" } },
        },
      },
      { kind: "pullRequestClose", pullRequestNumber: 4, commitSha: "01a3337e3abc" },
    ],
  ] as const)("%s", (_, host, headers, body, expected) => {
    const result = parseGitPayload(host, headers, body);
    expect(result.kind).toBe("events");
    if (result.kind !== "events") return;
    const [event] = result.events;
    const { kind, ...data } = expected;
    expect(event?.kind).toBe(kind);
    expect(event?.shaData).toMatchObject(data);
  });

  it.each([
    ["a GitHub ping", "github", { "x-github-event": "ping" }, { zen: "z" }, "is not a push or a pull request"],
    [
      "a deleted branch",
      "github",
      { "x-github-event": "push" },
      { ref: "refs/heads/x", after: "0".repeat(40), repository: { full_name: "a/b" } },
      "was deleted",
    ],
    [
      "a pull request labelled",
      "github",
      { "x-github-event": "pull_request" },
      { action: "labeled", repository: { full_name: "a/b" } },
      "brings no new code",
    ],
    [
      "a merge request whose title changed",
      "gitlab",
      { "x-gitlab-event": "Merge Request Hook" },
      { project: { path_with_namespace: "a/b" }, object_attributes: { action: "update" } },
      "brings no new code",
    ],
    [
      "a Bitbucket push that only deletes",
      "bitbucket",
      { "x-event-key": "repo:push" },
      { repository: { full_name: "a/b" }, push: { changes: [{ old: {}, new: null }] } },
      "only deletes",
    ],
  ] as const)("ignores %s", (_, host, headers, body, reason) => {
    expect(parseGitPayload(host, headers, body)).toEqual({ kind: "ignored", reason: expect.stringContaining(reason) });
  });

  it.each([
    ["a JSON array", "github", { "x-github-event": "push" }, [], "not a JSON object"],
    [
      "a push without ref",
      "github",
      { "x-github-event": "push" },
      { after: SHA, repository: { full_name: "a/b" } },
      "no string ref",
    ],
    [
      "a commit id that is not one",
      "github",
      { "x-github-event": "push" },
      { ref: "refs/heads/m", after: "zz; rm -rf /", repository: { full_name: "a/b" } },
      "not a commit id",
    ],
    [
      "a GitLab push without project",
      "gitlab",
      { "x-gitlab-event": "Push Hook" },
      { ref: "refs/heads/m", checkout_sha: SHA },
      "project.path_with_namespace",
    ],
  ] as const)("finds invalid: %s", (_, host, headers, body, reason) => {
    expect(parseGitPayload(host, headers, body)).toEqual({ kind: "invalid", reason: expect.stringContaining(reason) });
  });
});

describe("what a push leaves out, so a job's variables fall back as for a polled commit", () => {
  const push = (ref: string) =>
    parseGitPayload("github", { "x-github-event": "push" }, { ref, after: SHA, repository: { full_name: "a/b" } });
  it("a push has no pull-request keys: <N>_BASE_BRANCH and <N>_HEAD_BRANCH are its branch", () => {
    const result = push("refs/heads/main");
    const shaData = result.kind === "events" ? result.events[0]?.shaData : undefined;
    expect(shaData).toMatchObject({ branchName: "main" });
    expect(shaData).not.toHaveProperty("baseCommitRef");
    expect(shaData).not.toHaveProperty("headCommitRef");
  });
  it("a tag push has no branch: <N>_BRANCH is the resource's", () => {
    const result = push("refs/tags/v1");
    expect(result.kind === "events" ? result.events[0]?.shaData : undefined).not.toHaveProperty("branchName");
  });
});

describe("the repository a sourceName names", () => {
  it.each([
    ["acme/app", "acme/app"],
    ["Acme/App", "acme/app"],
    ["https://github.com/acme/app.git", "acme/app"],
    ["git@github.com:acme/app.git", "acme/app"],
    ["ssh://git@gitlab.example.com/group/sub/app.git", "group/sub/app"],
  ])("%s -> %s", (source, path) => {
    expect(repoPath(source)).toBe(path);
  });
});

describe("the filters of a gitRepo (shippable.md §4.1)", () => {
  const data = (over: Partial<ShaData> = {}): ShaData => ({
    commitSha: SHA,
    beforeCommitSha: "",
    branchName: "main",
    commitMessage: "",
    committer: "",
    commitUrl: "",
    isPullRequest: false,
    isPullRequestClose: false,
    isGitTag: false,
    gitTagName: "",
    isRelease: false,
    pullRequestNumber: 0,
    repoFullName: "acme/app",
    ...over,
  });
  const event = (kind: GitEventKind, over: Partial<ShaData> = {}, files?: string[]): GitEvent => ({
    kind,
    shaData: data(over),
    files,
  });

  it.each([
    ["a commit on any branch when no branch is named", {}, event("commit"), true],
    ["a commit on the named branch", { branch: "main" }, event("commit"), true],
    [
      "a commit on another branch",
      { branch: "main" },
      event("commit", { branchName: "dev" }),
      "branch dev is filtered out",
    ],
    [
      "a commit on a branch matching only's wildcard",
      { branches: { only: ["release/*"] } },
      event("commit", { branchName: "release/1.2" }),
      true,
    ],
    [
      "a commit on a branch in except",
      { branches: { except: ["wip-*"] } },
      event("commit", { branchName: "wip-x" }),
      "filtered out",
    ],
    ["a commit with buildOnCommit: false", { buildOnCommit: false }, event("commit"), "buildOnCommit is false"],
    [
      "a push that changes only pipeline files",
      {},
      event("commit", {}, ["ci/shippable.yml", "app.causeway.yml"]),
      "only pipeline files",
    ],
    ["a push that changes a pipeline file and code", {}, event("commit", {}, ["shippable.yml", "src/a.ts"]), true],
    [
      "a tag without buildOnTagPush (default false)",
      {},
      event("tag", { gitTagName: "v1" }),
      "buildOnTagPush is not true",
    ],
    ["a tag with buildOnTagPush", { buildOnTagPush: true }, event("tag", { gitTagName: "v1" }), true],
    [
      "a tag outside tags.only",
      { buildOnTagPush: true, tags: { only: ["v*"] } },
      event("tag", { gitTagName: "nightly" }),
      "tag nightly is filtered out",
    ],
    [
      "a pull request without buildOnPullRequest (default false)",
      {},
      event("pullRequest"),
      "buildOnPullRequest is not true",
    ],
    ["a pull request into the named branch", { buildOnPullRequest: true, branch: "main" }, event("pullRequest"), true],
    [
      "a pull request into another branch (the base is filtered)",
      { buildOnPullRequest: true, branch: "main" },
      event("pullRequest", { branchName: "dev" }),
      "base branch dev",
    ],
    [
      "a closed pull request without buildOnPullRequestClose",
      { buildOnPullRequest: true },
      event("pullRequestClose"),
      "buildOnPullRequestClose is not true",
    ],
    [
      "a closed pull request with buildOnPullRequestClose",
      { buildOnPullRequestClose: true },
      event("pullRequestClose"),
      true,
    ],
  ] as const)("%s", (_, template, ev, expected) => {
    const result = gitEventFilter(template, ev);
    if (expected === true) expect(result).toEqual({ accept: true });
    else expect(result).toEqual({ accept: false, reason: expect.stringContaining(expected) });
  });

  it.each([
    ["*", "anything/at/all", true],
    ["release/*", "release/1.2", true],
    ["v?", "v1", true],
    ["v?", "v10", false],
    ["a.b", "axb", false],
  ])("pattern %s matches %s: %s", (pattern, name, result) => {
    expect(matchesPattern(pattern, name)).toBe(result);
  });
});

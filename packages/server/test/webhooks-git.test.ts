import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { HookAnswerSchema, VersionSchema } from "@causeway/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { signature, startHookServer, type HookServer } from "./hook-server.js";
import { yaml } from "./helpers.js";

// Hosted gitRepo webhooks (docs/semantics.md "Webhooks"): the payloads GitHub, GitLab and
// Bitbucket publish, sent as real HTTP requests, signed or token-verified as each host does.

interface Example {
  readonly name: string;
  readonly examples: Record<string, unknown>[];
}
const github = createRequire(import.meta.url)("@octokit/webhooks-examples") as Example[];

function githubExample(event: string, pick: (e: Record<string, unknown>) => boolean): string {
  const found = github.find((d) => d.name === event)?.examples.find(pick);
  if (found === undefined) throw new Error(`no ${event} example`);
  return JSON.stringify(found);
}

function fixture(name: string): string {
  return readFileSync(new URL(`fixtures/webhooks/${name}`, import.meta.url), "utf8");
}

const LINE = yaml`
  resources:
    - name: gh_repo
      type: gitRepo
      integration: gh_scm
      versionTemplate:
        sourceName: https://github.com/Codertocat/Hello-World.git
        branch: master
        buildOnPullRequest: true
        buildOnTagPush: true
    - name: gh_strict
      type: gitRepo
      integration: gh_scm
      versionTemplate:
        sourceName: Codertocat/Hello-World
        branches:
          only: [release/*]
    - name: gl_repo
      type: gitRepo
      integration: gl_scm
      versionTemplate:
        sourceName: git@example.com:mike/diaspora.git
    - name: gl_tags
      type: gitRepo
      integration: gl_scm
      versionTemplate:
        sourceName: jsmith/example
        buildOnTagPush: true
        tags:
          only: [v*]
    - name: gl_mr
      type: gitRepo
      integration: gl_scm
      versionTemplate:
        sourceName: gitlabhq/gitlab-test
        buildOnPullRequest: true
    - name: bb_repo
      type: gitRepo
      integration: bb_scm
      versionTemplate:
        sourceName: some-repository/some-repo
        branches:
          only: [feature/*]
    - name: bb_pr
      type: gitRepo
      integration: bb_scm
      versionTemplate:
        sourceName: some-repo-namespace/some-repo
        branch: develop
        buildOnPullRequest: true
  jobs:
    - name: build
      type: runSh
      steps:
        - IN: gh_repo
        - TASK:
            script:
              - echo build
`;

const Versions = z.array(VersionSchema);
let s: HookServer;

beforeAll(async () => {
  s = await startHookServer(
    { "causeway.yml": LINE },
    {
      gh_scm: { webhookSecret: "gh-secret" },
      gl_scm: { webhookKey: "gl-token" },
      bb_scm: { webhookSecret: "bb-secret" },
    },
  );
});
afterAll(async () => {
  await s.stop();
});

async function hookVersions(name: string) {
  return Versions.parse((await s.api("GET", `/objects/${name}/versions`)).body).filter(
    (v) => v.createdBy === "webhook",
  );
}

/** A delivery as GitHub sends one: its event, a delivery id, both signatures. */
function fromGitHub(name: string, event: string, body: string, delivery = randomUUID(), key = "gh-secret") {
  return s.hook(name, body, {
    "content-type": "application/json",
    "user-agent": "GitHub-Hookshot/044aadd",
    "x-github-event": event,
    "x-github-delivery": delivery,
    "x-hub-signature": "sha1=0000000000000000000000000000000000000000",
    "x-hub-signature-256": signature(key, body),
  });
}

function fromGitLab(name: string, event: string, body: string, token = "gl-token") {
  return s.hook(name, body, {
    "content-type": "application/json",
    "x-gitlab-event": event,
    "x-gitlab-event-uuid": randomUUID(),
    "x-gitlab-token": token,
  });
}

function fromBitbucket(name: string, event: string, body: string) {
  return s.hook(name, body, {
    "content-type": "application/json",
    "x-event-key": event,
    "x-request-uuid": randomUUID(),
    "x-hook-uuid": randomUUID(),
    "x-hub-signature": signature("bb-secret", body),
  });
}

/** The keys the git poller writes (git-poller.ts): a webhook version has them all, and more. */
const POLLER_KEYS = [
  "commitSha",
  "beforeCommitSha",
  "branchName",
  "commitMessage",
  "committer",
  "isPullRequest",
  "isGitTag",
  "isRelease",
];

describe("hosted gitRepo webhooks", () => {
  it("GitHub: a signed push to the branch is a version named after the commit, redelivered once", async () => {
    const body = githubExample("push", (e) => e.ref === "refs/heads/master");
    const delivery = randomUUID();
    const res = await fromGitHub("gh_repo", "push", body, delivery);
    expect(res.status).toBe(200);
    const answer = HookAnswerSchema.parse(res.body);
    expect(answer.message).toBe("Webhook processed");
    expect(answer.runs).toHaveLength(1);
    const [version] = await hookVersions("gh_repo");
    const shaData = version?.propertyBag.shaData as Record<string, unknown>;
    expect(Object.keys(shaData)).toEqual(expect.arrayContaining(POLLER_KEYS));
    expect(shaData).toMatchObject({
      commitSha: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
      branchName: "master",
      commitMessage: "Initial commit",
      isPullRequest: false,
      isGitTag: false,
      repoFullName: "Codertocat/Hello-World",
    });
    expect(version?.versionName).toBe(shaData.commitSha);
    expect(version?.propertyBag.webhookRequestBody).toEqual(JSON.parse(body));
    const kept = version?.propertyBag.webhookRequestHeaders as Record<string, string>;
    expect(kept["x-github-event"]).toBe("push");
    expect(kept["x-hub-signature-256"]).toBeUndefined();
    // GitHub's "Redeliver": the same delivery id.
    const again = HookAnswerSchema.parse((await fromGitHub("gh_repo", "push", body, delivery)).body);
    expect(again).toMatchObject({ duplicate: true, runs: [] });
    // A new delivery of the same push (a host re-sending with a new id) is the same commit.
    const resent = HookAnswerSchema.parse((await fromGitHub("gh_repo", "push", body)).body);
    expect(resent).toMatchObject({ duplicate: true, runs: [] });
    expect(await hookVersions("gh_repo")).toHaveLength(1);
    // So is that commit found by a poll of the branch: the pollers' key is `<branch>@<commit>`.
    const polled = await s.engine.putVersion("gh_repo", { versionName: version?.versionName }, "git", {
      key: `master@${String(shaData.commitSha)}`,
    });
    expect(polled).toMatchObject({ duplicate: true, runs: [] });
    expect(polled.version.id).toBe(version?.id);
  });

  it("GitHub: tags, pull requests, pings and deletions, by the resource's filters", async () => {
    const before = (await hookVersions("gh_repo")).length;
    const tag = HookAnswerSchema.parse(
      (
        await fromGitHub(
          "gh_repo",
          "push",
          githubExample("push", (e) => e.ref === "refs/tags/simple-tag" && e.deleted === false),
        )
      ).body,
    );
    expect(tag.message).toBe("Webhook processed");
    const opened = githubExample("pull_request", (e) => e.action === "opened");
    expect(HookAnswerSchema.parse((await fromGitHub("gh_repo", "pull_request", opened)).body).message).toBe(
      "Webhook processed",
    );
    const [pr, tagVersion] = await hookVersions("gh_repo");
    expect(tagVersion?.propertyBag.shaData).toMatchObject({ isGitTag: true, gitTagName: "simple-tag" });
    expect(pr?.propertyBag.shaData).toMatchObject({
      isPullRequest: true,
      pullRequestNumber: 2,
      branchName: "master",
      headCommitRef: "changes",
    });
    const ignored: [string, string, string][] = [
      ["ping", githubExample("ping", () => true), "is not a push or a pull request"],
      ["push", githubExample("push", (e) => e.deleted === true), "was deleted"],
      [
        "pull_request",
        githubExample("pull_request", (e) => e.action === "closed"),
        "buildOnPullRequestClose is not true",
      ],
      ["pull_request", githubExample("pull_request", (e) => e.action === "labeled"), "brings no new code"],
    ];
    for (const [event, body, reason] of ignored) {
      const res = await fromGitHub("gh_repo", event, body);
      expect(res.status).toBe(200);
      expect(HookAnswerSchema.parse(res.body)).toMatchObject({
        message: expect.stringContaining(reason),
        versions: [],
      });
    }
    // A branch outside the filter: accepted, ignored.
    const master = await fromGitHub(
      "gh_strict",
      "push",
      githubExample("push", (e) => e.ref === "refs/heads/master"),
    );
    expect(HookAnswerSchema.parse(master.body).message).toContain("branch master is filtered out");
    expect(await hookVersions("gh_repo")).toHaveLength(before + 2);
    expect(await hookVersions("gh_strict")).toEqual([]);
  });

  it("GitHub: refuses a wrong signature and a SHA-1 signature alone; answers 400 to a payload that is not one", async () => {
    const body = githubExample("push", (e) => e.ref === "refs/heads/master");
    const wrong = await fromGitHub("gh_repo", "push", body, randomUUID(), "not-the-secret");
    expect(wrong.status).toBe(401);
    const sha1Only = await s.hook("gh_repo", body, {
      "x-github-event": "push",
      "x-hub-signature": "sha1=0000000000000000000000000000000000000000",
    });
    expect(sha1Only.status).toBe(401);
    expect(sha1Only.body).toMatchObject({ error: { message: expect.stringContaining("no credentials") } });
    const torn = await fromGitHub("gh_repo", "push", '{"ref": "refs/heads/master"}');
    expect(torn.status).toBe(400);
    expect(torn.body).toMatchObject({
      error: { code: "WEBHOOK_PAYLOAD_INVALID", message: expect.stringContaining("repository.full_name") },
    });
    const noEvent = await s.hook("gh_repo", body, { "x-hub-signature-256": signature("gh-secret", body) });
    expect(noEvent.status).toBe(400);
  });

  it("GitLab: push, tag push and merge request with X-Gitlab-Token", async () => {
    expect(
      HookAnswerSchema.parse((await fromGitLab("gl_repo", "Push Hook", fixture("gitlab-push.json"))).body).message,
    ).toBe("Webhook processed");
    const [push] = await hookVersions("gl_repo");
    expect(push?.propertyBag.shaData).toMatchObject({
      commitSha: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
      beforeCommitSha: "95790bf891e76fee5e1747ab589903a6a1f80f22",
      branchName: "master",
      commitMessage: "fixed readme\n",
      committer: "GitLab dev user <gitlabdev@dv6700.(none)>",
    });
    await fromGitLab("gl_tags", "Tag Push Hook", fixture("gitlab-tag-push.json"));
    const [tag] = await hookVersions("gl_tags");
    expect(tag?.propertyBag.shaData).toMatchObject({
      isGitTag: true,
      gitTagName: "v1.0.0",
      commitSha: "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7",
    });
    await fromGitLab("gl_mr", "Merge Request Hook", fixture("gitlab-merge-request.json"));
    const [mr] = await hookVersions("gl_mr");
    expect(mr?.propertyBag.shaData).toMatchObject({
      isPullRequest: true,
      pullRequestNumber: 1,
      branchName: "master",
      headCommitRef: "ms-viewport",
      pullRequestRepoFullName: "awesome_space/awesome_project",
    });
    // A push of gl_repo's payload to another repository's endpoint: not its repository.
    const other = await fromGitLab("gl_mr", "Push Hook", fixture("gitlab-push.json"));
    expect(HookAnswerSchema.parse(other.body).message).toContain(
      "the delivery is for mike/diaspora, not gitlabhq/gitlab-test",
    );
    const wrong = await fromGitLab("gl_repo", "Push Hook", fixture("gitlab-push.json"), "guess");
    expect(wrong.status).toBe(401);
    expect(await hookVersions("gl_repo")).toHaveLength(1);
  });

  it("Bitbucket Cloud: repo:push and pullrequest:created signed with X-Hub-Signature", async () => {
    expect(
      HookAnswerSchema.parse((await fromBitbucket("bb_repo", "repo:push", fixture("bitbucket-repo-push.json"))).body)
        .message,
    ).toBe("Webhook processed");
    const [push] = await hookVersions("bb_repo");
    expect(push?.propertyBag.shaData).toMatchObject({
      commitSha: "09c4367c5bdbef7d7a28ba4cc2638488c2088d6b",
      branchName: "feature/do-not-merge",
      committer: "me <me@somewheere.org>",
    });
    await fromBitbucket("bb_pr", "pullrequest:created", fixture("bitbucket-pr-created.json"));
    const [pr] = await hookVersions("bb_pr");
    expect(pr?.versionName).toBe("01a3337e3abc");
    expect(pr?.propertyBag.shaData).toMatchObject({
      isPullRequest: true,
      pullRequestNumber: 198,
      branchName: "develop",
    });
  });
});

import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { shortVersionName } from "@causeway/core";
import { afterEach, describe, expect, it } from "vitest";
import { fileIntegrations } from "../src/integrations.js";
import { localGitSource } from "../src/sources/local-git-source.js";
import { parseLsRemote, remoteGitSource } from "../src/sources/remote-git-source.js";
import { startVersionSources, type VersionSources } from "../src/sources/version-sources.js";
import { startGitDaemon } from "./git-daemon.js";
import { collectingLogger, waitFor } from "./helpers.js";
import { ManualTimers, sourcesHarness, type SourcesHarness } from "./sources-harness.js";

let h: SourcesHarness | undefined;
let sources: VersionSources | undefined;
afterEach(async () => {
  await sources?.stop();
  await h?.close();
  sources = undefined;
  h = undefined;
});

const GIT_ENV = { PATH: process.env.PATH ?? "/usr/bin:/bin", GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };

/** A real repository with commits made by the test. */
function repository(path: string) {
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", path, "-c", "user.name=Tess Ter", "-c", "user.email=tess@example.com", ...args], {
      encoding: "utf8",
      env: GIT_ENV,
    }).trim();
  return {
    git,
    async commit(files: Record<string, string>, message: string): Promise<string> {
      for (const [name, text] of Object.entries(files)) {
        await mkdir(join(path, name, ".."), { recursive: true });
        await writeFile(join(path, name), text);
      }
      git("add", "-A");
      git("commit", "--quiet", "-m", message);
      return git("rev-parse", "HEAD");
    },
  };
}

const LINE = (source: string) => `
resources:
  - name: app_repo
    type: gitRepo
    versionTemplate:
      sourceName: ${source}
      branch: main
jobs:
  - name: build
    type: runSh
    steps:
      - IN: app_repo
      - TASK: { script: [ "true" ] }
`;

describe("local gitRepo polling", () => {
  it("records a commit that changes only pipeline files without triggering, and one that changes code with", async () => {
    const timers = new ManualTimers("2026-03-02T10:00:00Z");
    h = await sourcesHarness(timers);
    const path = join(h.dir, "repo");
    await mkdir(path);
    const repo = repository(path);
    repo.git("init", "--quiet", "--initial-branch=main");
    const first = await repo.commit({ "app.txt": "v1\n", "shippable.yml": "jobs: []\n" }, "first");
    await h.apply(LINE(pathToFileURL(path).href));
    const logger = collectingLogger();
    sources = startVersionSources({
      engine: h.engine,
      sources: [localGitSource({ intervalMs: 1000, env: GIT_ENV })],
      logger,
      timers,
    });
    const versions = async () => (await h?.versions("app_repo")) ?? [];
    await waitFor("the first commit's version", async () => (await versions()).length === 2);
    await waitFor("the next poll's timer", () => timers.pending === 1);

    const yamlOnly = await repo.commit({ "shippable.yml": "jobs: [] # edited\n", "ci/x.causeway.yml": "{}\n" }, "line");
    await timers.advanceTo("2026-03-02T10:00:01Z");
    const code = await repo.commit({ "app.txt": "v2\n", "shippable.yml": "jobs: [] # again\n" }, "code");
    await timers.advanceTo("2026-03-02T10:00:02Z");
    expect((await versions()).map((v) => [v.versionName, v.createdBy])).toEqual([
      ["", "yaml"],
      [first, "git"],
      [yamlOnly, "git"],
      [code, "git"],
    ]);
    expect(logger.lines).toContain(
      `app_repo: new commit ${shortVersionName(yamlOnly)} on main: line (only pipeline files changed: it triggers nothing)`,
    );
    await h.engine.idle();
    const runs = await h.stores.store.read.listRuns({ job: "build" });
    const [, v2, , v4] = await versions();
    // Two runs: the first commit's and the code commit's; the pipeline-only commit made none.
    expect(runs.map((r) => (r.trigger.kind === "version" ? r.trigger.versionId : undefined)).reverse()).toEqual([
      v2?.id,
      v4?.id,
    ]);
  });
});

describe("which gitRepos are polled", () => {
  it("polls local and remote repositories, not an SCM's org/repo, nor one with buildOnCommit: false", async () => {
    const timers = new ManualTimers("2026-03-02T10:00:00Z");
    h = await sourcesHarness(timers);
    const repo = (name: string, source: string, extra = "") =>
      `  - name: ${name}\n    type: gitRepo\n    versionTemplate:\n      sourceName: "${source}"\n${extra}`;
    await h.apply(
      [
        "resources:",
        repo("local", join(h.dir, "nowhere")),
        repo("remote", "https://git.example.com/acme/app.git"),
        repo("scp", "git@git.example.com:acme/app.git"),
        repo("hosted", "acme/app"),
        repo("fed_by_job", "https://git.example.com/acme/app.git", "      buildOnCommit: false\n"),
        repo("fed_local", join(h.dir, "nowhere"), "      buildOnCommit: false\n"),
        "  - name: legacy\n    type: gitRepo\n    pointer:\n      sourceName: ssh://git@git.example.com/acme/app.git\n",
      ].join("\n"),
    );
    sources = startVersionSources({
      engine: h.engine,
      sources: [
        localGitSource({ intervalMs: 1000, env: GIT_ENV }),
        remoteGitSource({
          intervalMs: 1000,
          maxIntervalMs: 1000,
          env: { ...GIT_ENV, GIT_SSH_COMMAND: "false" },
          cacheDir: join(h.dir, "git-cache"),
          integrations: fileIntegrations(join(h.dir, "integrations")),
        }),
      ],
      logger: collectingLogger(),
      timers,
    });
    expect(Object.fromEntries(sources.watched())).toEqual({
      local: ["git"],
      remote: ["remote-git"],
      scp: ["remote-git"],
      legacy: ["remote-git"],
    });
  });
});

describe("remote gitRepo polling", () => {
  it("polls a real git daemon with backoff, records pushed commits of selected branches, and runs check out the exact commit", async () => {
    const timers = new ManualTimers("2026-03-02T10:00:00Z");
    h = await sourcesHarness(timers);
    const base = join(h.dir, "served");
    await mkdir(join(base, "app.git"), { recursive: true });
    execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", join(base, "app.git")], {
      env: GIT_ENV,
    });
    const daemon = await startGitDaemon(base, GIT_ENV);
    try {
      const work = join(h.dir, "work-copy");
      await mkdir(work);
      const repo = repository(work);
      repo.git("init", "--quiet", "--initial-branch=main");
      const url = daemon.url("app.git");
      const push = (...refs: string[]) => repo.git("push", "--quiet", url, ...refs);
      const c1 = await repo.commit({ "app.txt": "v1\n" }, "first");
      push("main");
      await h.apply(`
resources:
  - name: app_repo
    type: gitRepo
    versionTemplate:
      sourceName: ${url}
      branches:
        only: [main, "release/*"]
jobs:
  - name: build
    type: runSh
    steps:
      - IN: app_repo
      - TASK: { script: [ 'cd "$APP_REPO_STATE" && echo "at $(git rev-parse HEAD)"' ] }
`);
      const logger = collectingLogger();
      sources = startVersionSources({
        engine: h.engine,
        sources: [
          remoteGitSource({
            intervalMs: 1000,
            maxIntervalMs: 8000,
            env: GIT_ENV,
            cacheDir: join(h.dir, "git-cache"),
            integrations: fileIntegrations(join(h.dir, "integrations")),
          }),
        ],
        logger,
        timers,
      });
      const versions = async () => (await h?.versions("app_repo")) ?? [];
      await waitFor("the first commit's version", async () => (await versions()).length === 2);
      await waitFor("the next poll's timer", () => timers.pending === 1);
      expect((await versions())[1]).toMatchObject({ versionName: c1, createdBy: "git" });
      expect((await versions())[1]?.propertyBag.shaData).toEqual({
        commitSha: c1,
        beforeCommitSha: "",
        branchName: "main",
        commitMessage: "first",
        committer: "Tess Ter <tess@example.com>",
        isPullRequest: false,
        isGitTag: false,
        isRelease: false,
      });

      // Idle: the time between polls doubles, up to the maximum.
      const gaps: number[] = [];
      for (let i = 0; i < 5; i++) {
        const before = timers.now().getTime();
        gaps.push(Date.parse(timers.nextAt() ?? "") - before);
        await timers.fireNext();
      }
      expect(gaps).toEqual([1000, 2000, 4000, 8000, 8000]);
      expect((await versions()).length).toBe(2);

      // A push to main, to a selected release branch and to a branch outside the filter.
      const c2 = await repo.commit({ "app.txt": "v2\n" }, "second");
      repo.git("branch", "release/1.0");
      repo.git("branch", "feature/x");
      push("main", "release/1.0", "feature/x");
      await timers.fireNext();
      expect(Date.parse(timers.nextAt() ?? "") - timers.now().getTime()).toBe(1000);
      const after = await versions();
      expect(
        after.slice(2).map((v) => [v.versionName, (v.propertyBag.shaData as { branchName: string }).branchName]),
      ).toEqual([
        [c2, "main"],
        [c2, "release/1.0"],
      ]);
      expect(after[2]?.propertyBag.shaData).toMatchObject({ beforeCommitSha: c1, commitMessage: "second" });

      // A commit of the line's own files only: recorded, triggers nothing.
      const c3 = await repo.commit({ "shippable.yml": "jobs: []\n" }, "line only");
      push("main");
      await timers.fireNext();
      expect((await versions()).at(-1)).toMatchObject({ versionName: c3 });

      await h.engine.idle();
      const runs = (await h.stores.store.read.listRuns({ job: "build" })).reverse();
      expect(runs.map((r) => r.inputs[0]?.versionName)).toEqual([c1, c2, c2]);
      for (const run of runs) {
        expect(run.status).toBe("success");
        const log = new TextDecoder().decode(await h.stores.logs.read(run.id));
        expect(log).toContain(`at ${run.inputs[0]?.versionName ?? "?"}`);
      }
    } finally {
      await sources?.stop();
      await daemon.stop();
    }
  });
});

describe("parseLsRemote", () => {
  it("reads the branch heads and the default branch, and nothing else", () => {
    const a = "a".repeat(40);
    const b = "b".repeat(40);
    const output = [
      "ref: refs/heads/trunk\tHEAD",
      `${a}\tHEAD`,
      `${a}\trefs/heads/trunk`,
      `${b}\trefs/heads/release/1.0`,
      `${b}\trefs/tags/v1`,
      `${b}\trefs/pull/3/head`,
      "",
    ].join("\n");
    const { heads, defaultBranch } = parseLsRemote(output);
    expect(defaultBranch).toBe("trunk");
    expect([...heads]).toEqual([
      ["trunk", a],
      ["release/1.0", b],
    ]);
  });
});

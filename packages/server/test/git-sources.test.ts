import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { shortVersionName } from "@causeway/core";
import { afterEach, describe, expect, it } from "vitest";
import { localGitSource } from "../src/sources/local-git-source.js";
import { startVersionSources, type VersionSources } from "../src/sources/version-sources.js";
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

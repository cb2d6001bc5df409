import { execFileSync } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { RunSchema, VersionSchema } from "@causeway/protocol";
import { passthroughEnv } from "@causeway/runner";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { startServer } from "../src/index.js";
import { startGitHttp } from "./git-http.js";
import { collectingLogger, tempDir, waitFor } from "./helpers.js";

// The server's wiring of the version sources to a remote repository that needs credentials:
// the integration file of the data directory gives the token to both the poller and the
// runner's clone (one test of the wiring; the rules are in git-sources.test.ts).

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const GIT_ENV = { PATH: process.env.PATH ?? "/usr/bin:/bin", GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };

describe("a remote gitRepo with an integration", () => {
  it("is polled and cloned over HTTP with the integration's token, and runs its commit", async () => {
    const root = await tempDir("remote");
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const base = join(root, "served");
    const bare = join(base, "app.git");
    await mkdir(bare, { recursive: true });
    execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", bare], { env: GIT_ENV });
    const work = join(root, "work");
    await mkdir(work);
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", work, "-c", "user.name=T", "-c", "user.email=t@example.com", ...args], {
        env: GIT_ENV,
        encoding: "utf8",
      }).trim();
    git("init", "--quiet", "--initial-branch=main");
    await writeFile(join(work, "app.txt"), "hello over http\n");
    git("add", "-A");
    git("commit", "--quiet", "-m", "first");
    git("push", "--quiet", bare, "main");
    const head = git("rev-parse", "HEAD");

    const http = await startGitHttp(base, "ci", "s3cret-token", GIT_ENV.PATH);
    cleanups.push(() => http.stop());
    const dir = join(root, "line");
    const dataDir = join(root, "data");
    await mkdir(join(dataDir, "integrations"), { recursive: true, mode: 0o700 });
    await writeFile(
      join(dataDir, "integrations", "scm.json"),
      JSON.stringify({ username: "ci", token: "s3cret-token" }),
      {
        mode: 0o600,
      },
    );
    await mkdir(dir);
    await writeFile(
      join(dir, "causeway.yml"),
      `resources:
  - name: app_repo
    type: gitRepo
    integration: scm
    versionTemplate:
      sourceName: ${http.url("app.git")}
      branch: main
jobs:
  - name: build
    type: runSh
    steps:
      - IN: app_repo
      - TASK: { script: [ 'cat "$APP_REPO_STATE/app.txt"' ] }
`,
    );
    const logger = collectingLogger();
    const server = await startServer({
      dir,
      dataDir,
      port: 0,
      env: passthroughEnv(process.env),
      logger,
      cancelGraceMs: 500,
      remotePollMs: 60_000,
    });
    cleanups.push(() => server.stop());
    const api = async (path: string): Promise<unknown> => {
      const res = await fetch(`${server.url}/api/v1${path}`, { headers: { authorization: `Bearer ${server.token}` } });
      return res.json();
    };
    const run = await waitFor(`the run of the commit (log: ${logger.lines.join(" | ")})`, async () => {
      const runs = z.array(RunSchema).parse(await api("/runs?job=build"));
      return runs.find((r) => ["success", "failure", "error"].includes(r.status));
    });
    expect(run.status).toBe("success");
    expect(run.inputs[0]?.versionName).toBe(head);
    const versions = z.array(VersionSchema).parse(await api("/objects/app_repo/versions"));
    expect(versions[0]).toMatchObject({ versionName: head, createdBy: "git" });
    const log = await (
      await fetch(`${server.url}/api/v1/runs/${run.id}/logs`, { headers: { authorization: `Bearer ${server.token}` } })
    ).text();
    expect(log).toContain("hello over http");
    expect(log).not.toContain("s3cret-token");
    // Every request to the repository carried the token (the poller's and the runner's).
    expect(http.authorizations.length).toBeGreaterThanOrEqual(2);
    expect(http.authorizations.every((a) => a === `Basic ${Buffer.from("ci:s3cret-token").toString("base64")}`)).toBe(
      true,
    );
  });
});

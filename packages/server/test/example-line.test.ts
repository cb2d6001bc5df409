import { execFileSync } from "node:child_process";
import { appendFile, cp, mkdir, readFile, rm } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { shortVersionName } from "@causeway/core";
import { RunSchema, TraceSchema, VersionSchema, WhySchema, type RunJson } from "@causeway/protocol";
import { passthroughEnv } from "@causeway/runner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z, type ZodType } from "zod";
import { ensureDemoRepo } from "../../../scripts/demo-repo.mjs";
import { startServer, type RunningServer } from "../src/index.js";
import { collectingLogger, tempDir, waitFor } from "./helpers.js";

// examples/hello-line as `npm start` runs it, on the real server (SQLite, embedded runner, git
// poller), with its deploy root in a temp directory:
//
//   app_repo ─► build ─► app_build ─► deploy_staging ─► smoke_test ·····► deploy_production
//   (./app-repo)                        (staging/)                         (production/, by hand)

const EXAMPLE = fileURLToPath(new URL("../../../examples/hello-line", import.meta.url));
const FINAL = ["success", "failure", "cancelled", "error", "timeout", "lost", "skipped"];
const FLOW_MS = 30_000;

describe("examples/hello-line", () => {
  let root = "";
  let repo = "";
  let deployRoot = "";
  let server: RunningServer;
  let gitEnv: NodeJS.ProcessEnv = {};
  const logger = collectingLogger();

  const api = async <T>(schema: ZodType<T>, method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${server.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return schema.parse(JSON.parse(text));
  };
  const runsOf = (job: string) => api(z.array(RunSchema), "GET", `/runs?job=${job}`);
  const logOf = async (run: RunJson) => {
    const res = await fetch(`${server.url}/api/v1/runs/${run.id}/logs`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    return res.text();
  };
  /** Waits for run `number` of `job` to end, and fails with its log unless it succeeded. */
  const succeeded = async (job: string, number: number): Promise<RunJson> => {
    const run = await waitFor(
      `${job} #${number} to end (server log: ${logger.lines.join(" | ")})`,
      async () => (await runsOf(job)).find((r) => r.number === number && FINAL.includes(r.status)),
      FLOW_MS,
    );
    if (run.status !== "success") throw new Error(`${job} #${number} ended ${run.status}:\n${await logOf(run)}`);
    return run;
  };
  const stateFile = async (job: string, path: string): Promise<string> => {
    const res = await fetch(`${server.url}/api/v1/jobs/${job}/state/files/${path}`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    expect(res.status).toBe(200);
    return res.text();
  };
  const git = (...args: string[]): string =>
    execFileSync("git", ["-C", repo, ...args], { env: gitEnv, encoding: "utf8" }).trim();

  beforeAll(async () => {
    root = await tempDir("example");
    const line = join(root, "hello-line");
    // Only the line's own files: a checkout where `npm start` ran also has app-repo/.
    await cp(EXAMPLE, line, {
      recursive: true,
      filter: (src) => !relative(EXAMPLE, src).split(sep)[0]?.includes("app-repo"),
    });
    // A HOME without any git config: the repository must carry its own identity.
    const home = join(root, "home");
    await mkdir(home);
    gitEnv = { PATH: process.env.PATH, HOME: home, GIT_CONFIG_NOSYSTEM: "1" };
    repo = join(line, "app-repo");
    ensureDemoRepo(repo, { env: gitEnv });
    deployRoot = join(root, "deployments");
    server = await startServer({
      dir: line,
      dataDir: join(root, "data"),
      port: 0,
      pollIntervalMs: 50,
      env: { ...passthroughEnv(process.env), CAUSEWAY_DEPLOY_ROOT: deployRoot },
      cancelGraceMs: 500,
      logger,
      // The example's jobs share a deployment directory outside their workspaces, which a
      // sandboxed task cannot reach (npm start runs it without the sandbox too: scripts/start.mjs).
      sandbox: "off",
    });
  });

  afterAll(async () => {
    await server?.stop();
    if (root !== "") await rm(root, { recursive: true, force: true });
  });

  it("validates and applies with no error and no warning, the repository resolved to an absolute path", async () => {
    // A first start creates the admin token, then says how tasks run (without a sandbox, here),
    // then applies.
    expect(logger.lines[0]).toMatch(/^created the admin API token/);
    expect(logger.lines[1]).toMatch(/^tasks run WITHOUT a sandbox: /);
    expect(logger.lines[2]).toMatch(/^applied .*: 5 resources, 4 jobs \(9 added.*; 0 errors, 0 warnings$/);
    const versions = await api(z.array(VersionSchema), "GET", "/objects/app_repo/versions?limit=1000");
    // Version 1 comes from the definition: the stored definition holds the absolute path.
    expect(versions.at(-1)?.propertyBag).toMatchObject({ sourceName: repo, branch: "main" });
  });

  it("takes the first commit through build, staging and the smoke test; production waits", async () => {
    const head = git("rev-parse", "HEAD");
    const build = await succeeded("build", 1);
    const deploy = await succeeded("deploy_staging", 1);
    const smoke = await succeeded("smoke_test", 1);
    // One flow, started by the commit.
    expect(build.trigger).toMatchObject({ kind: "version", by: "app_repo" });
    expect(build.inputs.find((i) => i.name === "app_repo")?.versionName).toBe(head);
    expect(new Set([build.flow, deploy.flow, smoke.flow]).size).toBe(1);

    const [version] = await api(z.array(VersionSchema), "GET", "/objects/app_build/versions");
    const tag = version?.versionName ?? "";
    expect(head.startsWith(tag) && tag.length >= 7).toBe(true);
    expect(version?.propertyBag).toMatchObject({ commitSha: head, commitMessage: "Create hello-app" });

    const staging = join(deployRoot, "staging", "current");
    expect((await readFile(join(staging, "VERSION"), "utf8")).trim()).toBe(tag);
    expect(await readFile(join(staging, "BUILD_INFO"), "utf8")).toContain(`commit=${head}\n`);
    expect(execFileSync("bash", [join(staging, "hello.sh")], { encoding: "utf8" })).toBe(
      `Hello from hello-app ${tag}\n`,
    );
    expect(await stateFile("deploy_staging", "deploy_count")).toBe("1\n");

    expect(await runsOf("deploy_production")).toEqual([]);
    const why = await api(WhySchema, "GET", "/jobs/deploy_production/why");
    expect(why.explains.find((e) => e.outcome === "skipped")?.message).toMatch(/smoke_test has switch: off/);

    // The server's log tells the same story, one line per event, in this order.
    const repoVersion = build.inputs.find((i) => i.name === "app_repo")?.versionNumber;
    const story = [
      `app_repo: new commit ${shortVersionName(head)} on main: Create hello-app`,
      `build #1 queued: app_repo v${repoVersion} (${shortVersionName(head)})`,
      "build #1 started",
      /^build #1 succeeded in \d/,
      `deploy_staging #1 queued: app_build v${version?.versionNumber} (${shortVersionName(tag)}) from build #1`,
      "deploy_staging #1 started",
      /^deploy_staging #1 succeeded in \d/,
      "smoke_test #1 queued: upstream deploy_staging #1 succeeded",
      "smoke_test #1 started",
      /^smoke_test #1 succeeded in \d/,
    ];
    const at = story.map((line) =>
      logger.lines.findIndex((l) => (typeof line === "string" ? l === line : line.test(l))),
    );
    expect(
      at.filter((i) => i < 0),
      logger.lines.join("\n"),
    ).toEqual([]);
    expect(at).toEqual([...at].sort((a, b) => a - b));
  });

  it("takes a second commit to staging: the deploy counter is 2 and app_build has a new version", async () => {
    const [before] = await api(z.array(VersionSchema), "GET", "/objects/app_build/versions");
    await appendFile(join(repo, "README.md"), "Hello again\n");
    git("commit", "-qam", "Say hello again");
    const head = git("rev-parse", "HEAD");

    await succeeded("smoke_test", 2);
    const [after] = await api(z.array(VersionSchema), "GET", "/objects/app_build/versions");
    expect(after?.versionNumber).toBe((before?.versionNumber ?? 0) + 1);
    expect(after?.versionName).not.toBe(before?.versionName);
    expect(head.startsWith(after?.versionName ?? "-")).toBe(true);
    expect(after?.propertyBag).toMatchObject({ commitSha: head, commitMessage: "Say hello again" });
    expect(await stateFile("deploy_staging", "deploy_count")).toBe("2\n");
    expect((await stateFile("deploy_staging", "history.log")).trim().split("\n")).toEqual([
      expect.stringMatching(/ deploy 1 of hello-app:\w+ \(Create hello-app\)$/),
      expect.stringMatching(/ deploy 2 of hello-app:\w+ \(Say hello again\)$/),
    ]);
    expect(await runsOf("deploy_production")).toEqual([]);
  });

  it("deploys the second commit to production when triggered by hand, and traces it back to the commit", async () => {
    const head = git("rev-parse", "HEAD");
    const created = await api(RunSchema, "POST", "/jobs/deploy_production/runs", { user: "test" });
    expect(created.trigger).toMatchObject({ kind: "manual", by: "test" });
    await succeeded("deploy_production", 1);

    const production = join(deployRoot, "production", "current");
    expect(await readFile(join(production, "BUILD_INFO"), "utf8")).toContain(`commit=${head}\n`);
    expect(head.startsWith((await readFile(join(production, "VERSION"), "utf8")).trim())).toBe(true);
    expect(await stateFile("deploy_production", "deploy_count")).toBe("1\n");

    const trace = await api(TraceSchema, "GET", "/objects/deploy_production/trace");
    const chain = trace.entries.map((e) => `${e.depth} ${e.name}`);
    expect(chain).toEqual(expect.arrayContaining(["1 smoke_test", "2 deploy_staging", "3 app_build", "4 app_repo"]));
    const commit = trace.entries.find((e) => e.name === "app_repo" && e.depth === 4);
    expect(commit?.versionName).toBe(head);
  });
});

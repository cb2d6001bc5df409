import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApplyRecordSchema, PlanResultSchema } from "@causeway/protocol";
import { passthroughEnv } from "@causeway/runner";
import { silentLogger, startServer, type RunningServer } from "@causeway/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { serverArgs } from "../src/commands/up.js";
import { withBranch } from "../src/line-sources.js";
import { runCausewayCli, type CliRun } from "./fixtures.js";

// `causeway plan` and lines from several sources, against the real server (SQLite, engine),
// started in-process on a free port with a temp data directory.
//
//   app/:   cfg ──► build            infra/:  build ──► deploy

const APP = (target: string) => `resources:
  - name: cfg
    type: params
    versionTemplate:
      params:
        TARGET: ${target}
jobs:
  - name: build
    type: runSh
    steps:
      - IN: cfg
      - TASK:
          script: [echo build]
`;

const INFRA = `jobs:
  - name: deploy
    type: runSh
    steps:
      - IN: build
      - TASK:
          script: [echo deploy]
`;

let root = "";
let dataDir = "";
let server: RunningServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "causeway-cli-lines-"));
  dataDir = join(root, "data");
  server = await startServer({
    port: 0,
    dataDir,
    env: passthroughEnv(process.env),
    cancelGraceMs: 500,
    logger: silentLogger,
  });
}, 60_000);

afterAll(async () => {
  await server.stop();
  await rm(root, { recursive: true, force: true });
});

function cli(...argv: string[]): Promise<CliRun> {
  return runCausewayCli([...argv, "--data", dataDir], { env: { USER: "tester" }, now: () => new Date(), cwd: root });
}

/** `validate` works on files alone: no server options. */
function local(...argv: string[]): Promise<CliRun> {
  return runCausewayCli(argv, { cwd: root });
}

async function dir(name: string, files: Record<string, string>): Promise<string> {
  const path = join(root, name);
  await mkdir(path, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(path, file), text);
  return path;
}

async function applies(): Promise<z.infer<typeof ApplyRecordSchema>[]> {
  const run = await cli("applies", "--json");
  return z.array(ApplyRecordSchema).parse(JSON.parse(run.out));
}

describe("causeway plan", () => {
  it("previews an apply, applies nothing, and exits as apply would", async () => {
    const line = await dir("plan-line", { "causeway.yml": APP("staging") });
    expect((await cli("apply", line)).code).toBe(0);
    const history = await applies();

    await writeFile(join(line, "causeway.yml"), APP("production"));
    await writeFile(join(line, "broken.causeway.yml"), INFRA.replace("IN: build", "IN: nowhere"));
    const text = await cli("plan", line);
    expect(text.err).toBe("");
    expect(text.code).toBe(1);
    expect(text.out).toContain("error PIPELINE_UNKNOWN_REFERENCE");
    expect(text.out).toContain("plan: 1 to add, 1 to change, 0 to remove; 1 newly invalid");
    expect(text.out).toMatch(/^ {2}\+ deploy$/m);
    expect(text.out).toMatch(/^ {2}~ cfg$/m);
    expect(text.out).toMatch(/^ {2}! deploy: has an error/m);
    expect(text.out).toContain("nothing applied");

    const json = await cli("plan", line, "--json");
    expect(json.code).toBe(1);
    expect(PlanResultSchema.parse(JSON.parse(json.out))).toMatchObject({
      added: ["deploy"],
      changed: ["cfg"],
      removed: [],
      invalid: ["deploy"],
      versioned: ["cfg"],
    });
    // Nothing applied: no new entry in the apply history.
    expect(await applies()).toEqual(history);

    await rm(join(line, "broken.causeway.yml"));
    const clean = await cli("plan", line);
    expect(clean.code).toBe(0);
    expect(clean.out).toContain("plan: 0 to add, 1 to change, 0 to remove\n");
  });

  it("is a usage error (exit 2) for a directory that does not exist", async () => {
    const run = await cli("plan", join(root, "nowhere"));
    expect(run.code).toBe(2);
  });
});

describe("a line from several sources", () => {
  it("validate: names resolve across directories; a name in two is an error naming both", async () => {
    const app = await dir("multi/app", { "causeway.yml": APP("staging") });
    const infra = await dir("multi/infra", { "causeway.yml": INFRA });
    const ok = await local("validate", app, infra);
    expect(ok.out).toContain("valid: 2 files");
    expect(ok.code).toBe(0);
    const alone = await local("validate", infra);
    expect(alone.code).toBe(1);
    const graph = await local("graph", app, infra, "--format", "json");
    expect(graph.code).toBe(0);
    const edges = (JSON.parse(graph.out) as { edges: { from: string; to: string }[] }).edges;
    expect(edges).toContainEqual(expect.objectContaining({ from: "build", to: "deploy" }));

    const twice = await dir("multi/twice", { "causeway.yml": APP("production") });
    const dup = await local("validate", app, infra, twice, "--json");
    expect(dup.code).toBe(1);
    const found = (JSON.parse(dup.out) as { diagnostics: { code: string; file: string; message: string }[] })
      .diagnostics;
    expect(found.filter((d) => d.code === "PIPELINE_DUPLICATE_NAME")).toEqual([
      expect.objectContaining({
        file: "twice/causeway.yml",
        message: "resource cfg is already defined as a resource at app/causeway.yml:2:5",
      }),
      expect.objectContaining({
        file: "twice/causeway.yml",
        message: "job build is already defined as a job at app/causeway.yml:8:5",
      }),
    ]);
  });

  it("two sources of one name are a usage error; so is a bad project file, with its position", async () => {
    const a = await dir("names/a/config", { "causeway.yml": APP("x") });
    const b = await dir("names/b/config", { "causeway.yml": INFRA });
    const same = await local("validate", a, b);
    expect(same.code).toBe(2);
    expect(same.err).toContain("PROJECT_INVALID");
    expect(same.err).toContain("two sources are named config");
    const project = await dir("names/project", { "causeway.project.yml": "sources:\n  - name: x\n" });
    const bad = await cli("plan", project);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("causeway.project.yml:2:5 a source needs a path or a url");
  });

  it("apply a project: each object records its source, the history its sources; removing a source removes only its objects", async () => {
    const app = await dir("proj/app", { "causeway.yml": APP("staging") });
    await dir("proj/ops", { "causeway.yml": INFRA });
    const project = await dir("proj", {
      "causeway.project.yml": "sources:\n  - path: ./app\n  - name: infra\n    path: ./ops\n",
    });
    const first = await cli("apply", project);
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    // cfg and build were applied from plan-line/ above: now they come from the source app.
    expect(first.out).toContain("applied: 1 added, 2 changed, 0 removed");
    const files = server.engine.appliedFiles();
    expect([files.get("cfg"), files.get("build"), files.get("deploy")]).toEqual([
      "app/causeway.yml",
      "app/causeway.yml",
      "infra/causeway.yml",
    ]);
    const [entry] = await applies();
    expect(entry?.sources).toEqual([
      { name: "app", dir: app },
      { name: "infra", dir: join(project, "ops") },
    ]);

    // A file of one source that cannot be read keeps its objects as they were.
    await writeFile(join(project, "ops", "causeway.yml"), "jobs: [\n");
    const refused = await cli("apply", project);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain("applied: 0 added, 0 changed, 0 removed; refused 1 file");
    expect(server.engine.appliedFiles().get("deploy")).toBe("infra/causeway.yml");
    await writeFile(join(project, "ops", "causeway.yml"), INFRA);

    // The source removed from the project: its objects go, the other source's stay unchanged.
    await writeFile(join(project, "causeway.project.yml"), "sources:\n  - path: ./app\n");
    const plan = await cli("plan", project, "--json");
    expect(PlanResultSchema.parse(JSON.parse(plan.out))).toMatchObject({ added: [], changed: [], removed: ["deploy"] });
    const removed = await cli("apply", project);
    expect(removed.out).toContain("applied: 0 added, 0 changed, 1 removed");
    expect(server.engine.appliedFiles().has("deploy")).toBe(false);
  });
});

describe("--branch", () => {
  it.each([
    [["file:///r.git", "./app"], "dev", ["file:///r.git#dev", "./app"]],
    [["file:///r.git#main", "git@h:a/b.git"], "dev", ["file:///r.git#main", "git@h:a/b.git#dev"]],
    [["./app"], undefined, ["./app"]],
  ])("%j with --branch %s is %j", (args, branch, expected) => {
    expect(withBranch(args, branch)).toEqual(expected);
    expect(serverArgs(args, { ...(branch === undefined ? {} : { branch }) })).toEqual(expected);
  });

  it("is a usage error without a git URL, or when it is not a branch name", () => {
    expect(() => withBranch(["./app"], "dev")).toThrow("--branch goes with a git URL");
    expect(() => withBranch(["file:///r.git"], "--upload-pack=x")).toThrow("--branch must be a branch name");
  });
});

describe("a line from a git repository", () => {
  it("validate, plan and apply clone a URL#branch for the command; the history names the commit", async () => {
    const repo = await dir("repo", { "causeway.yml": INFRA });
    const git = (...args: string[]) =>
      execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@example.com", ...args], {
        cwd: repo,
        encoding: "utf8",
      }).trim();
    git("init", "--quiet", "-b", "release");
    git("add", "-A");
    git("commit", "--quiet", "-m", "deploy");
    const sha = git("rev-parse", "HEAD");
    const app = await dir("git-app", { "causeway.yml": APP("staging") });
    const url = `file://${repo}#release`;

    const valid = await local("validate", app, url);
    expect(valid.out).toContain("valid: 2 files");
    const plan = await cli("plan", app, url, "--json");
    expect(plan.code).toBe(0);
    const applied = await cli("apply", app, url);
    expect(applied.code).toBe(0);
    expect(server.engine.appliedFiles().get("deploy")).toBe("repo/causeway.yml");
    const [entry] = await applies();
    expect(entry?.sources).toEqual([
      { name: "git-app", dir: app },
      { name: "repo", url: `file://${repo}`, branch: "release", commit: sha },
    ]);
    const text = await cli("applies", "--limit", "1");
    expect(text.out).toContain(`    repo: file://${repo}#release at ${sha.slice(0, 7)}`);

    const branch = await local("validate", app, `file://${repo}`, "--branch", "release");
    expect(branch.out).toContain("valid: 2 files");
    // No branch: the repository's default branch (here release).
    const noBranch = await local("validate", app, `file://${repo}`);
    expect(noBranch.code).toBe(0);
    const missing = await local("validate", app, "file:///nowhere/gone.git");
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("GIT_FAILED");
  });
});

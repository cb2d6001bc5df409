import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { CausewayError } from "@causeway/core";
import { ObjectSummarySchema, RunSchema, ServerInfoSchema, VersionSchema, type RunJson } from "@causeway/protocol";
import { passthroughEnv } from "@causeway/runner";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { optionProblems, startServer, type RunningServer } from "../src/index.js";
import { collectingLogger, lineAndData, tempDir, waitFor, yaml } from "./helpers.js";

const FINAL = ["success", "failure", "cancelled", "error", "timeout", "lost", "skipped"];

const HELLO = yaml`
  jobs:
    - name: hello
      type: runSh
      steps:
        - TASK:
            script:
              - echo hi
`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(files: Record<string, string>) {
  const root = await tempDir("up");
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  return { root, ...(await lineAndData(root, files)) };
}

async function start(
  options: Parameters<typeof startServer>[0],
): Promise<RunningServer & { logger: ReturnType<typeof collectingLogger> }> {
  const logger = collectingLogger();
  const server = await startServer({
    port: 0,
    env: passthroughEnv(process.env),
    logger,
    cancelGraceMs: 500,
    ...options,
  });
  cleanups.push(() => server.stop());
  return Object.assign(server, { logger });
}

function client(server: { url: string; token: string }) {
  return async <T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T; res: Response }> => {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${server.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // text/plain
    }
    return { status: res.status, body: parsed as T, res };
  };
}

async function finished(api: ReturnType<typeof client>, id: number): Promise<RunJson> {
  return waitFor(`run ${id} to finish`, async () => {
    const { body } = await api<RunJson>("GET", `/runs/${id}`);
    return FINAL.includes(body.status) ? body : undefined;
  });
}

describe("startServer", () => {
  it("serves a pipeline directory on 127.0.0.1: a run triggered over HTTP runs, its log is readable", async () => {
    const { dir, dataDir } = await setup({ "causeway.yml": HELLO });
    const server = await start({ dir, dataDir });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.logger.lines.some((l) => l.startsWith(`applied ${dir}: 0 resources, 1 job (1 added`))).toBe(true);
    const api = client(server);
    const health = await fetch(`${server.url}/api/v1/health`);
    expect(await health.json()).toEqual({ ok: true, version: expect.any(String) });
    const created = await api("POST", "/jobs/hello/runs", {});
    expect(created.status).toBe(201);
    const run = await finished(api, RunSchema.parse(created.body).id);
    expect(run.status).toBe("success");
    const logs = await api<string>("GET", `/runs/${run.id}/logs`);
    expect(logs.body).toContain("\nhi\n");
    expect(logs.res.headers.get("x-run-status")).toBe("success");
  });

  it("writes the admin token to <data>/server.json (mode 0600), keeps it on stop and uses it again", async () => {
    const { dir, dataDir } = await setup({ "causeway.yml": HELLO });
    const server = await start({ dir, dataDir });
    const path = join(dataDir, "server.json");
    const info = ServerInfoSchema.parse(JSON.parse(await readFile(path, "utf8")));
    expect(info).toEqual({ url: server.url, token: server.token, pid: process.pid });
    expect(server.token).toMatch(/^cw_[A-Za-z0-9_-]{43}$/);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    // It says how to use it, and never prints the secret.
    const said = server.logger.entries.map((e) => e.msg).join("\n");
    expect(said).toContain(`created the admin API token (named admin) in ${path}`);
    expect(said).toContain("causeway token create --role");
    expect(said).not.toContain(server.token);
    await server.stop();
    // Kept: the secret is stored nowhere else (the database has its hash).
    expect(existsSync(path)).toBe(true);
    await expect(fetch(`${server.url}/api/v1/health`)).rejects.toThrow();
    // The lock is released: the directory can be used again, with the same token.
    const again = await start({ dir, dataDir });
    expect(again.token).toBe(server.token);
    expect(again.logger.entries.map((e) => e.msg).join("\n")).not.toContain("created the admin API token");
    expect((await client(again)("GET", "/jobs")).body).toHaveLength(1);
    const tokens = (await client(again)("GET", "/tokens")).body as { name: string; role: string }[];
    expect(tokens.map((t) => [t.name, t.role])).toEqual([["admin", "admin"]]);
  });

  it("refuses to start when server.json lost the admin token, until --new-admin-token makes a new one", async () => {
    const { dir, dataDir } = await setup({ "causeway.yml": HELLO });
    const first = await start({ dir, dataDir });
    await first.stop();
    await unlink(join(dataDir, "server.json"));
    const refused = await start({ dir, dataDir }).catch((e: unknown) => e);
    expect((refused as CausewayError).code).toBe("ADMIN_TOKEN_LOST");
    const renewed = await start({ dir, dataDir, newAdminToken: true });
    expect(renewed.token).not.toBe(first.token);
    expect((await client(renewed)("GET", "/jobs")).status).toBe(200);
    const old = await fetch(`${renewed.url}/api/v1/jobs`, { headers: { authorization: `Bearer ${first.token}` } });
    expect(old.status).toBe(401);
    const tokens = (await client(renewed)("GET", "/tokens")).body as { name: string; state: string }[];
    expect(tokens.map((t) => [t.name, t.state])).toEqual([
      ["admin", "revoked"],
      ["admin", "active"],
    ]);
  });

  it("ends open SSE streams on stop, so stopping never hangs on a client", async () => {
    const { dir, dataDir } = await setup({ "causeway.yml": HELLO });
    const server = await start({ dir, dataDir });
    const headers = { authorization: `Bearer ${server.token}` };
    const events = await fetch(`${server.url}/api/v1/events?after=0`, { headers });
    const run = RunSchema.parse(
      await (await fetch(`${server.url}/api/v1/jobs/hello/runs`, { method: "POST", headers })).json(),
    );
    await server.engine.waitForRun(run.id);
    const logs = await fetch(`${server.url}/api/v1/runs/${run.id}/logs/stream`, { headers });
    expect(await logs.text()).toContain("event: end");
    const reading = events.text();
    await server.stop();
    // Ended by the server, not cut: a cut connection (the fallback of a close that hangs)
    // would reject here with "other side closed".
    expect(await reading).toContain('"type":"definition"');
  });

  it("refuses a second server on the same data directory with DATA_DIR_LOCKED naming the owner", async () => {
    const { dir, dataDir } = await setup({ "causeway.yml": HELLO });
    const first = await start({ dir, dataDir });
    const error = await start({ dir, dataDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CausewayError);
    expect((error as CausewayError).code).toBe("DATA_DIR_LOCKED");
    expect((error as CausewayError).message).toContain(String(process.pid));
    // The first one is untouched.
    expect((await client(first)("GET", "/jobs")).status).toBe(200);
    expect(existsSync(join(dataDir, "server.json"))).toBe(true);
  });

  it("refuses bad options, listing every problem", async () => {
    const error = await startServer({ port: -1, slots: 0, host: "", logFormat: "yaml" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CausewayError);
    expect((error as CausewayError).code).toBe("SERVER_BAD_OPTIONS");
    expect(optionProblems(error)).toHaveLength(4);
    const missing = await startServer({ dir: "/no/such/dir/anywhere" }).catch((e: unknown) => e);
    expect((missing as Error).message).toContain("does not exist");
    expect((missing as CausewayError).code).toBe("SERVER_BAD_OPTIONS");
  });

  it("logs a failed run with its failing command before the retry it causes, and the retry's end", async () => {
    const { root, dir, dataDir } = await setup({});
    await writeFile(
      join(dir, "causeway.yml"),
      yaml`
        jobs:
          - name: flaky
            type: runSh
            retries: {max: 1, on: [failure]}
            steps:
              - TASK:
                  name: check
                  script:
                    - cd "${root}"
                    - if [ ! -f flaky.mark ]; then touch flaky.mark; exit 3; fi
      `,
    );
    // The job marks its first attempt in the test's directory, outside its workspace: no sandbox.
    const server = await start({ dir, dataDir, sandbox: "off" });
    const first = RunSchema.parse((await client(server)("POST", "/jobs/flaky/runs")).body);
    await waitFor("the retry's end", () => server.logger.lines.some((l) => l.startsWith("flaky #2 succeeded in ")));
    const runLines = server.logger.lines.filter((l) => l.startsWith("flaky #"));
    expect(runLines.map((l) => l.replace(/in \d+(ms|\.\ds)/, "in T"))).toEqual([
      "flaky #1 queued: manual run by admin",
      "flaky #1 started",
      // Written after its console was read, still before the lines that follow it.
      `flaky #1 failed in T: exit 3 in "if [ ! -f flaky.mark ]; then touch flaky.mark; exit 3; fi" (see causeway logs ${first.id})`,
      "flaky #2 queued: retry of flaky #1 (attempt 2)",
      "flaky #2 started (attempt 2)",
      "flaky #2 succeeded in T",
    ]);
    const failed = server.logger.entries.find(
      (e) => e.fields?.event === "run.finished" && e.fields.status === "failure",
    );
    expect(failed?.fields).toMatchObject({ runId: first.id, exitCode: 3, task: "check", trigger: "manual" });
  });

  it("re-applies the directory when a file changes, and survives a broken file", async () => {
    const { dir, dataDir } = await setup({ "causeway.yml": HELLO });
    const server = await start({ dir, dataDir, watchDebounceMs: 50 });
    const api = client(server);
    const names = async () =>
      z
        .array(ObjectSummarySchema)
        .parse((await api("GET", "/jobs")).body)
        .map((j) => j.name);

    await mkdir(join(dir, "sub"));
    await writeFile(
      join(dir, "sub", "more.causeway.yml"),
      yaml`
        jobs:
          - name: more
            type: runSh
            steps:
              - TASK:
                  script:
                    - echo more
      `,
    );
    await waitFor("the new job", async () => (await names()).includes("more"));

    // A YAML syntax error: the server logs the diagnostics and keeps serving.
    await writeFile(join(dir, "causeway.yml"), "jobs: [\n");
    await waitFor("the summary of the broken file", () =>
      server.logger.lines.some((l) => /\d+ errors?,/.test(l) && !l.includes(" 0 errors")),
    );
    expect((await fetch(`${server.url}/api/v1/health`)).status).toBe(200);
    // The broken file's job is kept as it was (docs/semantics.md, "A broken file").
    expect(await names()).toEqual(["hello", "more"]);

    await writeFile(join(dir, "causeway.yml"), HELLO.replace("echo hi", "echo hello again"));
    await waitFor("the fixed file", () =>
      server.logger.lines.some((l) => l.startsWith("applied") && l.includes("(0 added, 1 changed, 0 removed)")),
    );
    expect(await names()).toEqual(["hello", "more"]);
    const run = await finished(api, RunSchema.parse((await api("POST", "/jobs/hello/runs", {})).body).id);
    expect((await api<string>("GET", `/runs/${run.id}/logs`)).body).toContain("hello again");

    // Files the loader ignores do not cause an apply.
    const applies = server.logger.lines.filter((l) => l.startsWith("applied")).length;
    await writeFile(join(dir, "notes.txt"), "not a pipeline file");
    await new Promise((r) => setTimeout(r, 300));
    expect(server.logger.lines.filter((l) => l.startsWith("applied")).length).toBe(applies);
  });

  it("polls a local git repository: a commit creates a version that triggers its job", async () => {
    const { root, dir, dataDir } = await setup({});
    const repo = join(root, "repo");
    await mkdir(repo);
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", repo, "-c", "user.name=Tess Ter", "-c", "user.email=tess@example.com", ...args], {
        encoding: "utf8",
        env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" },
      }).trim();
    git("init", "--quiet", "--initial-branch=main");
    await writeFile(join(repo, "app.txt"), "v1\n");
    git("add", "app.txt");
    git("commit", "--quiet", "-m", "first");
    const first = git("rev-parse", "HEAD");
    await writeFile(
      join(dir, "causeway.yml"),
      yaml`
        resources:
          - name: app_repo
            type: gitRepo
            versionTemplate:
              sourceName: ${pathToFileURL(repo).href}
              branch: main
        jobs:
          - name: app_build
            type: runSh
            steps:
              - IN: app_repo
              - TASK:
                  script:
                    - cat "$APP_REPO_STATE/app.txt"
      `,
    );
    const server = await start({ dir, dataDir, pollIntervalMs: 50 });
    const api = client(server);
    const versions = async () => z.array(VersionSchema).parse((await api("GET", "/objects/app_repo/versions")).body);

    const v2 = await waitFor("the version of the first commit", async () =>
      (await versions()).find((v) => v.versionName === first),
    );
    expect(v2).toMatchObject({ versionNumber: 2, createdBy: "git" });
    expect(v2.propertyBag.shaData).toEqual({
      commitSha: first,
      beforeCommitSha: "",
      branchName: "main",
      commitMessage: "first",
      committer: "Tess Ter <tess@example.com>",
      isPullRequest: false,
      isGitTag: false,
      isRelease: false,
    });

    await writeFile(join(repo, "app.txt"), "v2\n");
    git("commit", "--quiet", "-am", "second");
    const second = git("rev-parse", "HEAD");
    const v3 = await waitFor("the version of the second commit", async () =>
      (await versions()).find((v) => v.versionName === second),
    );
    expect(v3.propertyBag.shaData).toMatchObject({
      commitSha: second,
      beforeCommitSha: first,
      commitMessage: "second",
    });

    const run = await waitFor("the run of the second commit", async () => {
      const runs = z.array(RunSchema).parse((await api("GET", "/runs?job=app_build")).body);
      return runs.find((r) => r.inputs.some((i) => i.name === "app_repo" && i.versionName === second));
    });
    expect(run.trigger).toMatchObject({ kind: "version", by: "app_repo", versionId: v3.id });
    expect(run.flow).toBe(v3.flow);
    const done = await finished(api, run.id);
    expect(done.status).toBe("success");
    expect((await api<string>("GET", `/runs/${run.id}/logs`)).body).toContain("\nv2\n");
    // No new commit, no new version.
    const count = (await versions()).length;
    await new Promise((r) => setTimeout(r, 300));
    expect((await versions()).length).toBe(count);
  });
});

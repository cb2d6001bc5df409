import { execFileSync } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { RunSchema, VersionSchema, type ServerInfo } from "@causeway/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ensureBuilt, infoOf, killAll, killed, spawnServer, type ServerProcess } from "./built.js";
import { startGitDaemon, type GitDaemon } from "./git-daemon.js";
import { tempDir, waitFor } from "./helpers.js";

// The fault suite, "exactly once" for version sources: the built server is SIGKILLed while the
// runs of polled commits process, and a new server on the same data directory polls the same
// repository again; the delivery keys of the versions make the second poll create nothing.

const GIT_ENV = { PATH: process.env.PATH ?? "/usr/bin:/bin", GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };

function client(info: ServerInfo) {
  return async (path: string): Promise<unknown> => {
    const res = await fetch(`${info.url}/api/v1${path}`, { headers: { authorization: `Bearer ${info.token}` } });
    if (res.status >= 400) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
}

describe("version sources across a SIGKILL (fault suite)", () => {
  let root: string;
  let daemon: GitDaemon | undefined;
  const procs: ServerProcess[] = [];

  beforeAll(async () => {
    ensureBuilt();
    root = await tempDir("fault-sources");
  }, 180_000);

  afterAll(async () => {
    await killAll(procs);
    await daemon?.stop();
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  it("creates no commit version twice when the server is killed and started again", async () => {
    const base = join(root, "served");
    await mkdir(join(base, "app.git"), { recursive: true });
    execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", join(base, "app.git")], {
      env: GIT_ENV,
    });
    daemon = await startGitDaemon(base, GIT_ENV);
    const url = daemon.url("app.git");
    const work = join(root, "work");
    await mkdir(work);
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", work, "-c", "user.name=T", "-c", "user.email=t@example.com", ...args], {
        env: GIT_ENV,
        encoding: "utf8",
      }).trim();
    git("init", "--quiet", "--initial-branch=main");
    await writeFile(join(work, "app.txt"), "v1\n");
    git("add", "-A");
    git("commit", "--quiet", "-m", "first");
    git("branch", "release/1.0");
    git("push", "--quiet", url, "main", "release/1.0");
    const head = git("rev-parse", "HEAD");

    const dir = join(root, "line");
    const dataDir = join(root, "data");
    await mkdir(dir);
    // Each run sleeps, so the server is killed while they process.
    await writeFile(
      join(dir, "causeway.yml"),
      `resources:
  - name: app_repo
    type: gitRepo
    versionTemplate:
      sourceName: ${url}
      branches: { only: [main, "release/*"] }
jobs:
  - name: build
    type: runSh
    triggerMode: parallel
    dependencyMode: immediate
    steps:
      - IN: app_repo
      - TASK: { script: [ "sleep 30" ] }
`,
    );
    const first = spawnServer([dir, "--port", "0", "--data", dataDir]);
    procs.push(first);
    const api1 = client(await infoOf(first, dataDir));
    const versions = async (api: ReturnType<typeof client>) =>
      z
        .array(VersionSchema)
        .parse(await api("/objects/app_repo/versions?limit=100"))
        .filter((v) => v.createdBy === "git");
    const runs = async (api: ReturnType<typeof client>) => z.array(RunSchema).parse(await api("/runs?job=build"));
    await waitFor("a version per branch, and their runs processing", async () => {
      const made = await versions(api1);
      const processing = (await runs(api1)).filter((r) => r.status === "processing");
      return made.length === 2 && processing.length === 2;
    });
    first.child.kill("SIGKILL");
    await killed(first);

    const second = spawnServer([dir, "--port", "0", "--data", dataDir]);
    procs.push(second);
    const api2 = client(await infoOf(second, dataDir));
    // The new server's first poll sees both heads again; one of them is not the latest
    // version's, so only its key stops a second version.
    await waitFor(
      `the second poll (output: ${second.output})`,
      () =>
        second.output.includes(`commit ${head.slice(0, 7)} on main was recorded before: no new version`) ||
        second.output.includes(`commit ${head.slice(0, 7)} on release/1.0 was recorded before: no new version`),
    );
    const after = await versions(api2);
    expect(after.map((v) => (v.propertyBag.shaData as { branchName: string }).branchName).sort()).toEqual([
      "main",
      "release/1.0",
    ]);
    expect(after.every((v) => v.versionName === head)).toBe(true);
    const all = await runs(api2);
    // The two runs killed with the server are lost; nothing else ran or was created.
    expect(all.map((r) => r.status).sort()).toEqual(["lost", "lost"]);
    second.child.kill("SIGTERM");
    await killed(second);
  }, 120_000);

  it("records a tick missed while the server was down once at start, and never again after a SIGKILL", async () => {
    const dir = join(root, "ticks");
    const dataDir = join(root, "ticks-data");
    await mkdir(dir);
    await writeFile(
      join(dir, "causeway.yml"),
      `resources:
  - name: every_minute
    type: time
    versionTemplate: { interval: "* * * * *" }
jobs:
  - name: on_tick
    type: runSh
    steps:
      - IN: every_minute
      - TASK: { script: [ "sleep 30" ] }
`,
    );
    const ticks = async (api: ReturnType<typeof client>) =>
      z
        .array(VersionSchema)
        .parse(await api("/objects/every_minute/versions?limit=100"))
        .filter((v) => v.createdBy === "time")
        .map((v) => v.versionName);
    const scheduled = (proc: ServerProcess) =>
      proc.output.includes('every_minute: schedule "* * * * *" (UTC), next tick');

    // Server 1 defines the schedule and is killed before its first tick.
    const first = spawnServer([dir, "--port", "0", "--data", dataDir]);
    procs.push(first);
    await infoOf(first, dataDir);
    await waitFor("server 1's schedule", () => scheduled(first));
    first.child.kill("SIGKILL");
    await killed(first);
    const down = Date.now();
    const missed = Math.ceil((down + 1) / 60_000) * 60_000;
    // Down across a minute: that tick is missed.
    await waitFor("the next minute", () => Date.now() > missed + 200, 65_000);

    const second = spawnServer([dir, "--port", "0", "--data", dataDir]);
    procs.push(second);
    const api2 = client(await infoOf(second, dataDir));
    await waitFor(`server 2's schedule (output: ${second.output})`, () => scheduled(second));
    const afterStart = await ticks(api2);
    // The latest missed tick, once (a minute may have turned meanwhile: never a name twice).
    expect(afterStart).toContain(new Date(missed).toISOString());
    expect(new Set(afterStart).size).toBe(afterStart.length);
    await waitFor("the tick's run processing", async () =>
      z
        .array(RunSchema)
        .parse(await api2("/runs?job=on_tick"))
        .some((r) => r.status === "processing"),
    );
    second.child.kill("SIGKILL");
    await killed(second);

    const third = spawnServer([dir, "--port", "0", "--data", dataDir]);
    procs.push(third);
    const api3 = client(await infoOf(third, dataDir));
    await waitFor(`server 3's schedule (output: ${third.output})`, () => scheduled(third));
    const afterRestart = await ticks(api3);
    expect(afterRestart.filter((t) => t === new Date(missed).toISOString())).toHaveLength(1);
    expect(new Set(afterRestart).size).toBe(afterRestart.length);
    expect(afterRestart.slice(-afterStart.length)).toEqual(afterStart);
    third.child.kill("SIGTERM");
    await killed(third);
  }, 120_000);
});

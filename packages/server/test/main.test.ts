import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, infoOf, killAll, killed, spawnServer, type ServerProcess } from "./built.js";
import { tempDir, waitFor, yaml } from "./helpers.js";

const HELLO = yaml`
  jobs:
    - name: hello
      type: runSh
      steps:
        - TASK:
            script:
              - echo hi
`;

async function exited(proc: ServerProcess): Promise<number | null> {
  await killed(proc);
  return proc.child.exitCode;
}

describe("main.ts (the server process)", () => {
  let root: string;
  let dir: string;
  const procs: ServerProcess[] = [];
  const pidFiles: string[] = [];

  beforeAll(async () => {
    ensureBuilt();
    root = await tempDir("main");
    dir = join(root, "line");
    await mkdir(dir);
    await writeFile(join(dir, "causeway.yml"), HELLO);
  }, 180_000);

  afterAll(async () => {
    await killAll(procs);
    for (const file of pidFiles) {
      const pid = Number((await readFile(file, "utf8").catch(() => "")).trim());
      try {
        if (pid > 0) process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await rm(root, { recursive: true, force: true });
  });

  const spawn = (...args: string[]): ServerProcess => {
    const proc = spawnServer(args);
    procs.push(proc);
    return proc;
  };

  it.each([
    ["a bad port", ["--port", "x"]],
    ["an unknown option", ["--frobnicate"]],
    ["two directories that do not exist", ["a", "b"]],
    ["a directory that does not exist", ["/no/such/dir", "--port", "0"]],
  ])("exits 2 with the usage on %s", async (_what, args) => {
    const proc = spawn(...args);
    expect(await exited(proc)).toBe(2);
    expect(proc.output).toContain("usage: causeway-server");
  });

  it("takes several sources: applies them as one line and names them in its banner", async () => {
    const other = join(root, "other");
    await mkdir(other, { recursive: true });
    await writeFile(join(other, "causeway.yml"), HELLO.replace("name: hello", "name: other"));
    const data = join(root, "data-sources");
    const proc = spawn(dir, other, "--port", "0", "--data", data);
    await infoOf(proc, data);
    await waitFor("the banner", () => proc.output.includes("Press Ctrl+C"));
    expect(proc.output).toContain(`pipeline: ${dir} ${other}`);
    expect(proc.output).toContain("applied line, other: 0 resources, 2 jobs (2 added, 0 changed, 0 removed)");
    proc.child.kill("SIGTERM");
    expect(await exited(proc)).toBe(0);
  });

  it("--public serves the jobs with allowPublicAccess to anonymous readers; --new-admin-token renews a lost admin token", async () => {
    const publicDir = join(root, "public-line");
    await mkdir(publicDir, { recursive: true });
    await writeFile(
      join(publicDir, "causeway.yml"),
      "jobs:\n  - name: hello\n    type: runSh\n    allowPublicAccess: true\n    steps:\n      - TASK:\n          script:\n            - echo hi\n",
    );
    const data = join(root, "data-public");
    const first = spawn(publicDir, "--port", "0", "--data", data, "--public");
    const info = await infoOf(first, data);
    const jobs = await fetch(`${info.url}/api/v1/jobs`);
    expect(((await jobs.json()) as { name: string }[]).map((j) => j.name)).toEqual(["hello"]);
    expect((await fetch(`${info.url}/api/v1/resources`)).status).toBe(401);
    first.child.kill("SIGTERM");
    expect(await exited(first)).toBe(0);

    await rm(join(data, "server.json"));
    const refused = spawn(publicDir, "--port", "0", "--data", data);
    expect(await exited(refused)).toBe(1);
    expect(refused.output).toContain("error ADMIN_TOKEN_LOST:");
    const renewed = spawn(publicDir, "--port", "0", "--data", data, "--new-admin-token");
    const again = await infoOf(renewed, data);
    expect(again.token).not.toBe(info.token);
    const res = await fetch(`${again.url}/api/v1/resources`, { headers: { authorization: `Bearer ${again.token}` } });
    expect(res.status).toBe(200);
    renewed.child.kill("SIGTERM");
    expect(await exited(renewed)).toBe(0);
  });

  it("prints where it runs, and exits 1 with a clear message when the data directory or port is taken", async () => {
    const data = join(root, "data-a");
    const a = spawn(dir, "--port", "0", "--data", data);
    const info = await infoOf(a, data);
    await waitFor("the banner", () => a.output.includes("Press Ctrl+C"));
    expect(a.output).toContain(`Causeway is running at ${info.url}`);
    expect(a.output).toContain(data);

    const locked = spawn(dir, "--port", "0", "--data", data);
    expect(await exited(locked)).toBe(1);
    expect(locked.output).toContain("DATA_DIR_LOCKED");
    expect(locked.output).toContain(`process ${a.child.pid}`);
    expect(locked.output).not.toMatch(/\n\s+at /);

    const port = new URL(info.url).port;
    const busy = spawn(dir, "--port", port, "--data", join(root, "data-b"));
    expect(await exited(busy)).toBe(1);
    // One line, the code, no stack (terminal.test.ts has the details).
    expect(busy.output).toMatch(
      new RegExp(
        `^causeway-server: error CANNOT_LISTEN: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use .*\n$`,
      ),
    );

    a.child.kill("SIGINT");
    expect(await exited(a)).toBe(0);
  });

  it("stops gracefully on the first signal and at once on the second", async () => {
    const data = join(root, "data-c");
    const pidFile = join(root, "stubborn.pid");
    pidFiles.push(pidFile);
    // A job that ignores SIGTERM: a graceful stop waits for the runner's grace period.
    await writeFile(
      join(dir, "stubborn.causeway.yml"),
      yaml`
        jobs:
          - name: stubborn
            type: runSh
            steps:
              - TASK:
                  script:
                    - trap '' TERM; echo $BASHPID > "${pidFile}"; while true; do sleep 0.1; done
      `,
    );
    // The task writes its PID (this machine's) to a file outside its workspace: no sandbox.
    const proc = spawn(dir, "--port", "0", "--data", data, "--sandbox", "off");
    const info = await infoOf(proc, data);
    const res = await fetch(`${info.url}/api/v1/jobs/stubborn/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${info.token}` },
    });
    expect(res.status).toBe(201);
    await waitFor("the job to run", async () => (await readFile(pidFile, "utf8").catch(() => "")).trim() !== "");
    proc.child.kill("SIGINT");
    await waitFor("the stopping line", () => proc.output.includes("stopping"));
    proc.child.kill("SIGINT");
    expect(await exited(proc)).toBe(130);
    expect(proc.output).toContain("again: exiting now");
    await rm(join(dir, "stubborn.causeway.yml"));
  });
});

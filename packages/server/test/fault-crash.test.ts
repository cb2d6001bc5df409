import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, openSync, readdirSync, readFileSync, writeSync, closeSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { RunSchema, type RunJson, type ServerInfo } from "@causeway/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ensureBuilt, infoOf, killAll, killed, spawnServer, type ServerProcess } from "./built.js";
import { tempDir, waitFor, yaml } from "./helpers.js";

// Tasks here write marks and their PIDs to files outside their workspaces, which the tests read
// with this machine's PIDs: no sandbox (it hides those files, and its PIDs are its own; the
// sandbox's lifeline is tested in packages/runner/test/lifeline.test.ts).
const NO_SANDBOX = ["--sandbox", "off"];

// The fault suite, "a crash of the server" (docs/semantics.md): the built server process is
// SIGKILLed while tasks run; real processes, files and signals.

const FINAL = ["success", "failure", "cancelled", "error", "timeout", "lost", "skipped"];

function client(info: ServerInfo) {
  return async <T = unknown>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${info.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${info.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
}

interface Proc {
  readonly pid: number;
  readonly state: string;
  readonly pgid: number;
  readonly start: number;
}

/** Every process but zombies (dead, waiting to be reaped: they run nothing), from /proc. */
function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const p = { pid: Number(name), state: f[0] as string, pgid: Number(f[2]), start: Number(f[19]) };
      if (p.state !== "Z") out.push(p);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The processes whose environment holds `mark` (inherited by every command a task runs). */
function marked(mark: string): number[] {
  return processes()
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p.pid}/environ`, "latin1").includes(mark);
      } catch {
        return false;
      }
    })
    .map((p) => p.pid);
}

function running(pid: number, start?: number): boolean {
  return processes().some((p) => p.pid === pid && (start === undefined || p.start === start));
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Writes `pid` where a lock holder records its PID (the lock database's user_version). */
function recordLockPid(dataDir: string, pid: number): void {
  const fd = openSync(join(dataDir, "server.lock"), "r+");
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(pid);
  writeSync(fd, bytes, 0, 4, 60);
  closeSync(fd);
}

async function exitCode(proc: ServerProcess): Promise<number | null> {
  await killed(proc);
  return proc.child.exitCode;
}

describe("a crash of the server (fault suite)", () => {
  let root: string;
  const procs: ServerProcess[] = [];
  const others: ChildProcess[] = [];
  const groups: number[] = [];

  beforeAll(async () => {
    ensureBuilt();
    root = await tempDir("fault-crash");
  }, 180_000);

  afterAll(async () => {
    await killAll(procs);
    for (const child of others) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    for (const pgid of groups) killGroup(pgid);
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  it("ends the tasks of a SIGKILLed server within seconds, and a lost run's retry never overlaps the lost attempt", async () => {
    const dir = join(root, "once");
    const dataDir = join(root, "once-data");
    await mkdir(dir);
    const out = join(root, "deploy.log");
    const mark = `CAUSEWAY_FAULT_${randomBytes(6).toString("hex")}`;
    // deploy (sourced by a task worker) appends "<run id> <i>" ten times a second: 100 lines on
    // the first attempt, 5 on a retry. fresh (its script uses $$: a fresh bash) just sleeps.
    await writeFile(
      join(dir, "causeway.yml"),
      yaml`
        jobs:
          - name: deploy
            type: runSh
            retries: {max: 1, on: [lost]}
            steps:
              - TASK:
                  script:
                    - export ${mark}=1
                    - echo "$BASHPID" > "${root}/pgid-$BUILD_ID"
                    - n=100; [ "$BUILD_NUMBER" = 1 ] || n=5
                    - for i in $(seq 1 $n); do echo "$BUILD_ID $i" >> "${out}"; sleep 0.1; done
          - name: fresh
            type: runSh
            steps:
              - TASK:
                  script:
                    - export ${mark}=1
                    - echo $$ > "${root}/pgid-fresh"
                    - sleep 600
      `,
    );

    const first = spawnServer([dir, "--port", "0", "--data", dataDir, ...NO_SANDBOX]);
    procs.push(first);
    const api1 = client(await infoOf(first, dataDir));
    const deploy = RunSchema.parse(await api1("POST", "/jobs/deploy/runs", {}));
    await api1("POST", "/jobs/fresh/runs", {});
    const pgidFile = join(root, `pgid-${deploy.id}`);
    await waitFor("the first attempt to write a few lines, and fresh to run", async () => {
      const lines = (await readFile(out, "utf8").catch(() => "")).split("\n").filter(Boolean);
      return lines.length >= 3 && existsSync(pgidFile) && existsSync(join(root, "pgid-fresh"));
    });
    const taskGroups = [pgidFile, join(root, "pgid-fresh")].map((f) => Number(readFileSync(f, "utf8")));
    groups.push(...taskGroups);
    const { workers } = z
      .object({ workers: z.array(z.object({ pid: z.number(), start: z.number() })) })
      .parse(JSON.parse(readFileSync(join(dataDir, "task-workers.json"), "utf8")));
    expect(workers.length).toBeGreaterThanOrEqual(2);
    expect(marked(mark).length).toBeGreaterThan(0);

    first.child.kill("SIGKILL");
    await killed(first);

    // Within a few seconds, nothing of the old server's tasks runs: not their process groups,
    // not a process carrying their environment, not their workers.
    await waitFor(
      "the old server's tasks and workers to be gone",
      () =>
        processes().every((p) => !taskGroups.includes(p.pgid)) &&
        marked(mark).length === 0 &&
        workers.every((w) => !running(w.pid, w.start)),
      5_000,
    );
    const linesOfLost = (await readFile(out, "utf8")).split("\n").filter(Boolean);
    expect(linesOfLost.every((l) => l.startsWith(`${deploy.id} `))).toBe(true);

    const second = spawnServer([dir, "--port", "0", "--data", dataDir, ...NO_SANDBOX]);
    procs.push(second);
    const api2 = client(await infoOf(second, dataDir));
    expect(RunSchema.parse(await api2("GET", `/runs/${deploy.id}`)).status).toBe("lost");
    const retry = await waitFor("the retry of deploy", async () => {
      const runs: RunJson[] = z.array(RunSchema).parse(await api2("GET", "/runs?job=deploy"));
      const r = runs.find((x) => x.attempt === 2);
      return r !== undefined && FINAL.includes(r.status) ? r : undefined;
    });
    expect(retry).toMatchObject({ status: "success", trigger: { kind: "retry" } });

    // The lost attempt wrote nothing after its server died, and every one of its lines comes
    // before the retry's first: the two never ran side by side.
    const lines = (await readFile(out, "utf8")).split("\n").filter(Boolean);
    expect(lines).toEqual([...linesOfLost, ...[1, 2, 3, 4, 5].map((i) => `${retry.id} ${i}`)]);
    expect(second.output).not.toContain("still running: ending them");

    second.child.kill("SIGTERM");
    expect(await exitCode(second)).toBe(0);
  });

  it("refuses a second live server, and takes a SIGKILLed server's directory at once, even when the PID in its lock now belongs to another process", async () => {
    const dir = join(root, "lock");
    const dataDir = join(root, "lock-data");
    await mkdir(dir);
    await writeFile(join(dir, "causeway.yml"), "jobs: []\n");

    const first = spawnServer([dir, "--port", "0", "--data", dataDir, ...NO_SANDBOX]);
    procs.push(first);
    await infoOf(first, dataDir);
    const refused = spawnServer([dir, "--port", "0", "--data", dataDir, ...NO_SANDBOX]);
    procs.push(refused);
    expect(await exitCode(refused)).toBe(1);
    expect(refused.output).toContain(
      `DATA_DIR_LOCKED: the data directory ${dataDir} is in use by process ${first.child.pid}`,
    );

    first.child.kill("SIGKILL");
    await killed(first);
    // The dead server's PID, recorded in the lock, now names a live process that has nothing
    // to do with the directory.
    const unrelated = spawn("sleep", ["600"], { stdio: "ignore" });
    others.push(unrelated);
    recordLockPid(dataDir, unrelated.pid as number);

    const second = spawnServer([dir, "--port", "0", "--data", dataDir, ...NO_SANDBOX]);
    procs.push(second);
    await infoOf(second, dataDir);
    expect(unrelated.exitCode).toBeNull();
    second.child.kill("SIGTERM");
    expect(await exitCode(second)).toBe(0);
  });

  it("never kills a process whose PID is in the record of task workers but is not that worker", async () => {
    const dir = join(root, "reuse");
    const dataDir = join(root, "reuse-data");
    await mkdir(dir);
    await mkdir(dataDir);
    await writeFile(join(dir, "causeway.yml"), "jobs: []\n");
    // A live process that leads its own session, as a task worker does; its PID is recorded
    // as a worker's, with another start time (the PID was reused), and with its own start time
    // (it is not a task worker).
    const unrelated = spawn("sleep", ["600"], { stdio: "ignore", detached: true });
    others.push(unrelated);
    const pid = unrelated.pid as number;
    const start = await waitFor("the sleep", () => processes().find((p) => p.pid === pid)?.start);
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "latin1").trim();
    await writeFile(
      join(dataDir, "task-workers.json"),
      JSON.stringify({
        boot,
        workers: [
          { pid, start: start - 1 },
          { pid, start },
        ],
      }),
    );

    const server = spawnServer([dir, "--port", "0", "--data", dataDir, ...NO_SANDBOX]);
    procs.push(server);
    await infoOf(server, dataDir);
    expect(running(pid, start)).toBe(true);
    expect(server.output).not.toContain("still running: ending them");
    expect(existsSync(join(dataDir, "task-workers.json"))).toBe(false);
    server.child.kill("SIGTERM");
    expect(await exitCode(server)).toBe(0);
  });
});

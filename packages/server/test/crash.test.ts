import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { RunSchema, VersionSchema, type RunJson, type ServerInfo, type VersionJson } from "@causeway/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ensureBuilt, infoOf, killed, spawnServer, type ServerProcess } from "./built.js";
import { tempDir, waitFor, yaml } from "./helpers.js";

// Tasks here write marks and their PIDs to files outside their workspaces, which the tests read
// with this machine's PIDs: no sandbox (it hides those files, and its PIDs are its own; the
// sandbox's lifeline is tested in packages/runner/test/lifeline.test.ts).
const NO_SANDBOX = ["--sandbox", "off"];

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

describe("SIGKILL of the server during running jobs, then a restart", () => {
  let root: string;
  const procs: ServerProcess[] = [];
  const pidFiles: string[] = [];

  beforeAll(ensureBuilt, 180_000);

  afterAll(async () => {
    for (const p of procs) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill("SIGKILL");
        await killed(p);
      }
    }
    // A safety net: the jobs of the killed server die with it (their workers' lifeline), but a
    // test that failed half way may leave some behind.
    for (const file of pidFiles) {
      const pid = Number((await readFile(file, "utf8").catch(() => "")).trim());
      if (pid > 0) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  it("marks the running runs lost with a reason, loses no run or version, and retries where the job allows", async () => {
    root = await tempDir("crash");
    const dir = join(root, "line");
    const dataDir = join(root, "data");
    await mkdir(dir);
    const sleeper = (name: string, retries: string) => {
      const mark = join(root, `${name}.mark`);
      const pid = join(root, `${name}.pid`);
      pidFiles.push(pid);
      return yaml`
        - name: ${name}
          type: runSh
          ${retries}
          steps:
            - TASK:
                script:
                  - if [ -f "${mark}" ]; then echo "second attempt"; exit 0; fi
                  - touch "${mark}"; echo $$ > "${pid}"
                  - sleep 120
      `;
    };
    // knob ──> quick        sleepy (retries on lost)        napper (no retries)
    await writeFile(
      join(dir, "causeway.yml"),
      yaml`
        resources:
          - name: knob
            type: params
            versionTemplate:
              params:
                N: "0"
        jobs:
          - name: quick
            type: runSh
            steps:
              - IN: knob
              - TASK:
                  script:
                    - echo "quick $N"
      ` +
        [sleeper("sleepy", "retries: {max: 1, on: [lost]}"), sleeper("napper", "")]
          .map((text) => text.trimEnd().replace(/^/gm, "  ") + "\n")
          .join(""),
    );

    const first = spawnServer([dir, "--port", "0", "--data", dataDir, ...NO_SANDBOX]);
    procs.push(first);
    const api1 = client(await infoOf(first, dataDir));

    // History before the crash: versions from outside, the runs they trigger, manual runs.
    for (let n = 1; n <= 3; n++)
      await api1("POST", "/objects/knob/versions", { propertyBag: { params: { N: String(n) } } });
    await waitFor("the quick runs", async () => {
      const runs = z.array(RunSchema).parse(await api1("GET", "/runs?job=quick"));
      return runs.length === 3 && runs.every((r) => r.status === "success");
    });
    const sleepy = RunSchema.parse(await api1("POST", "/jobs/sleepy/runs", {}));
    const napper = RunSchema.parse(await api1("POST", "/jobs/napper/runs", {}));
    await waitFor("both sleepers to be running", async () => {
      const a = RunSchema.parse(await api1("GET", `/runs/${sleepy.id}`));
      const b = RunSchema.parse(await api1("GET", `/runs/${napper.id}`));
      return a.status === "processing" && b.status === "processing" && pidFiles.every((f) => existsSync(f));
    });

    const runsBefore = z.array(RunSchema).parse(await api1("GET", "/runs?limit=1000"));
    const versionsBefore: VersionJson[] = [];
    for (const name of ["knob", "quick", "sleepy", "napper"]) {
      versionsBefore.push(...z.array(VersionSchema).parse(await api1("GET", `/objects/${name}/versions?limit=1000`)));
    }
    expect(versionsBefore.length).toBeGreaterThanOrEqual(7);

    first.child.kill("SIGKILL");
    await killed(first);

    const second = spawnServer([dir, "--port", "0", "--data", dataDir, ...NO_SANDBOX]);
    procs.push(second);
    const api2 = client(await infoOf(second, dataDir));

    const lostSleepy = RunSchema.parse(await api2("GET", `/runs/${sleepy.id}`));
    const lostNapper = RunSchema.parse(await api2("GET", `/runs/${napper.id}`));
    for (const run of [lostSleepy, lostNapper]) {
      expect(run.status).toBe("lost");
      expect(run.statusReason).toMatch(/server stopped while this run was processing/);
      expect(run.finishedAt).not.toBeNull();
    }

    // Every run and version created before the crash is still there, unchanged but for the
    // status of the runs that were processing.
    const runsAfter = new Map(
      z
        .array(RunSchema)
        .parse(await api2("GET", "/runs?limit=1000"))
        .map((r) => [r.id, r]),
    );
    for (const before of runsBefore) {
      const after = runsAfter.get(before.id);
      expect(after, `run ${before.id}`).toBeDefined();
      expect({ ...after, status: 0, statusReason: 0, finishedAt: 0, exitCode: 0 }).toEqual({
        ...before,
        status: 0,
        statusReason: 0,
        finishedAt: 0,
        exitCode: 0,
      });
    }
    const versionIds = new Set<number>();
    for (const name of ["knob", "quick", "sleepy", "napper"]) {
      for (const v of z.array(VersionSchema).parse(await api2("GET", `/objects/${name}/versions?limit=1000`)))
        versionIds.add(v.id);
    }
    expect(versionsBefore.filter((v) => !versionIds.has(v.id))).toEqual([]);

    // sleepy allows a retry on lost: the retry runs (its script sees the mark) and succeeds.
    const retry = await waitFor("the retry of sleepy", async () => {
      const runs = z.array(RunSchema).parse(await api2("GET", "/runs?job=sleepy"));
      const r = runs.find((x) => x.attempt === 2);
      return r !== undefined && FINAL.includes(r.status) ? r : undefined;
    });
    expect(retry).toMatchObject({
      status: "success",
      trigger: { kind: "retry" },
      flow: sleepy.flow,
      inputs: sleepy.inputs,
    });
    const log = await fetch(`${(await infoOf(second, dataDir)).url}/api/v1/runs/${retry.id}/logs`, {
      headers: { authorization: `Bearer ${(await infoOf(second, dataDir)).token}` },
    });
    expect(await log.text()).toContain("second attempt");
    // napper has no retries: it stays lost, with no other run.
    const nappers: RunJson[] = z.array(RunSchema).parse(await api2("GET", "/runs?job=napper"));
    expect(nappers.map((r) => [r.id, r.status])).toEqual([[napper.id, "lost"]]);

    // The terminal of the second server says which runs were lost, and what was retried.
    expect(second.stdout).toMatch(/ sleepy #1 lost: the server stopped while this run was processing\n/);
    expect(second.stdout).toMatch(/ napper #1 lost: the server stopped while this run was processing\n/);
    expect(second.stdout).toMatch(/ sleepy #2 queued: retry of sleepy #1 \(attempt 2\)\n/);

    // A graceful stop this time: SIGTERM, exit 0, server.json kept (it holds the admin token).
    second.child.kill("SIGTERM");
    await killed(second);
    expect(second.child.exitCode).toBe(0);
    expect(existsSync(join(dataDir, "server.json"))).toBe(true);
  });
});

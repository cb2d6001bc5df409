import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RunSchema, VersionSchema, type RunJson } from "@causeway/protocol";
import { passthroughEnv } from "@causeway/runner";
import { silentLogger, startServer, type RunningServer } from "@causeway/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { runCausewayCli, type CliRun } from "./fixtures.js";

// The CLI against the real server (SQLite, engine, embedded runner running bash), started
// in-process on a free port with a temp data directory; the CLI finds it by its server.json.
//
//   cfg (switch: off) ╌╌> a ──> b        ext ──> c        broken        slow
const LINE = `resources:
  - name: cfg
    type: params
    versionTemplate:
      params:
        GREETING: hello
  - name: ext
    type: params
jobs:
  - name: a
    type: runSh
    steps:
      - IN: cfg
        switch: off
      - TASK:
          script:
            - echo "a ran"
            - date > "$JOB_STATE/last-run.txt"
  - name: b
    type: runSh
    steps:
      - IN: a
      - TASK:
          script:
            - echo "b ran"
  - name: c
    type: runSh
    steps:
      - IN: ext
      - TASK:
          script:
            - echo "c ran"
  - name: broken
    type: runSh
    steps:
      - TASK:
          script:
            - echo "about to fail"
            - exit 3
  - name: slow
    type: runSh
    steps:
      - TASK:
          script:
            - echo "sleeping"
            - sleep 30
`;

let root = "";
let dataDir = "";
let lineDir = "";
let server: RunningServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "causeway-cli-e2e-"));
  dataDir = join(root, "data");
  lineDir = join(root, "line");
  await mkdir(lineDir);
  await writeFile(join(lineDir, "causeway.yml"), LINE);
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
  return runCausewayCli([...argv, "--data", dataDir], { env: { USER: "tester" }, now: () => new Date() });
}

async function json<T>(schema: z.ZodType<T>, ...argv: string[]): Promise<T> {
  const run = await cli(...argv, "--json");
  expect(run.err).toBe("");
  expect(run.code).toBe(0);
  return schema.parse(JSON.parse(run.out));
}

/** Polls `check` until it gives a value, failing at the deadline (never a fixed sleep). */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

const Runs = z.array(RunSchema);
const FINAL = new Set(["success", "failure", "cancelled", "timeout", "lost", "error", "skipped"]);

async function runsOf(job: string): Promise<RunJson[]> {
  return json(Runs, "runs", "--job", job);
}

async function finished(job: string, count: number): Promise<RunJson[]> {
  return until(`${count} finished runs of ${job}`, async () => {
    const runs = await runsOf(job);
    return runs.length >= count && runs.every((r) => FINAL.has(r.status)) ? runs : undefined;
  });
}

describe("the CLI against the real server", () => {
  it("apply: sends the line and prints what was added", async () => {
    const run = await cli("apply", lineDir);
    expect(run.err).toBe("");
    expect(run.code).toBe(0);
    expect(run.out).toContain("applied: 7 added, 0 changed, 0 removed");
    expect(run.out).toMatch(/^ {2}\+ cfg$/m);
    // Applying again changes nothing.
    expect((await cli("apply", lineDir)).out).toContain("applied: 0 added, 0 changed, 0 removed");
  });

  it("trigger --wait: follows the run to success, exits 0, and the downstream job ran in the same flow", async () => {
    const run = await cli("trigger", "a", "--param", "X=1", "--wait");
    expect(run.err).toBe("");
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^triggered a #1 \(id \d+, flow [0-9a-f]{8}\)$/m);
    expect(run.out).toMatch(/^\d\d:\d\d:\d\d a #1 success$/m);
    const [a] = await finished("a", 1);
    const [b] = await finished("b", 1);
    expect(a?.status).toBe("success");
    expect(a?.params).toEqual({ X: "1" });
    expect(a?.trigger).toMatchObject({ kind: "manual", by: "tester" });
    expect(b).toMatchObject({ status: "success", flow: a?.flow, trigger: { kind: "upstream", by: "a" } });
  });

  it("runs --json: the public contract, newest first", async () => {
    const out = await cli("runs", "--json");
    const runs = JSON.parse(out.out) as Record<string, unknown>[];
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const r of runs)
      for (const key of [
        "id",
        "job",
        "number",
        "status",
        "trigger",
        "flow",
        "inputs",
        "createdAt",
        "startedAt",
        "finishedAt",
      ])
        expect(r).toHaveProperty(key);
    const ids = runs.map((r) => r.id as number);
    expect(ids).toEqual([...ids].sort((x, y) => y - x));
    expect(Runs.parse(runs)[0]?.job).toBe("b");
    const table = await cli("runs", "--job", "a");
    expect(table.out).toMatch(/^ID\s+JOB\s+#\s+STATUS\s+TRIGGER\s+FLOW\s+CREATED\s+DURATION$/m);
    expect(table.out).toMatch(
      /^\d+\s+a\s+1\s+success\s+manual tester\s+[0-9a-f]{8}\s+\d+s ago\s+(\d+ms|\d+\.\ds|\d+s)$/m,
    );
  });

  it("runs --flow takes the 8 characters a table shows, and says when a prefix starts no flow", async () => {
    const [a] = await finished("a", 1);
    const short = a?.flow.slice(0, 8) ?? "";
    const byPrefix = Runs.parse(JSON.parse((await cli("runs", "--flow", short, "--json")).out));
    expect(byPrefix.map((r) => `${r.job} #${r.number}`).sort()).toEqual(["a #1", "b #1"]);
    const none = await cli("runs", "--flow", "zzzz");
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/^error FLOW_NOT_FOUND: no flow id starts with "zzzz"\n {2}hint: /);
  });

  it("run and logs: the details with the frozen inputs and steps, the console, and the log's bytes", async () => {
    const [a] = await runsOf("a");
    const id = String(a?.id);
    const details = await cli("run", id);
    expect(details.code).toBe(0);
    expect(details.out).toMatch(new RegExp(`^a #1  success  \\(id ${id}\\)$`, "m"));
    expect(details.out).toMatch(/^ {2}cfg\s+resource\s+params\s+#1/m);
    expect(details.out).toMatch(/^ {2}✔ {2}0 +\S+ +\$ echo "a ran"$/m);
    const logs = await cli("logs", id);
    expect(logs.code).toBe(0);
    expect(logs.out).toMatch(/^\$ echo "a ran" {2}✔ exit 0 · \d+ms\na ran\n/m);
    expect(logs.out).not.toContain("__SH__");
    const raw = await cli("logs", id, "--raw");
    expect(raw.out).toContain("__SH__CMD__START__");
    const follow = await cli("logs", id, "--follow", "--raw");
    expect(follow).toEqual({ code: 0, out: raw.out, err: "" });
  });

  it("versions --json and put-version: a version from outside triggers the jobs that take it", async () => {
    const versions = await json(z.array(VersionSchema), "versions", "cfg");
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({
      versionNumber: 1,
      propertyBag: { params: { GREETING: "hello" } },
      createdBy: "yaml",
    });
    for (const key of ["versionNumber", "versionName", "propertyBag", "createdAt", "createdBy"])
      expect(versions[0]).toHaveProperty(key);

    const put = await cli("put-version", "ext", "versionName=v7", "url=http://x/y");
    expect(put.code).toBe(0);
    expect(put.out).toMatch(/^created ext #\d+ "v7"\ntriggered c #1 \(id \d+\)\n$/);
    const [latest] = await json(z.array(VersionSchema), "versions", "ext");
    // A params resource keeps the keys put from outside under `params`, as its definition does.
    expect(latest).toMatchObject({
      versionName: "v7",
      propertyBag: { params: { url: "http://x/y" } },
      createdBy: "api",
    });
    await finished("c", 1);
  });

  it("pin and unpin: why shows the pin while it is set", async () => {
    expect((await cli("pin", "a", "cfg", "1")).code).toBe(0);
    expect((await cli("why", "a")).out).toMatch(/^a: active, consistent, pins: cfg@1$/m);
    expect((await cli("unpin", "a", "cfg")).code).toBe(0);
    expect((await cli("why", "a", "--json")).out).toContain('"pins": {}');
    const bad = await cli("pin", "a", "nope", "1");
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^error NOT_AN_INPUT: /);
  });

  it("pause and resume: a paused job does not run, why says so", async () => {
    expect((await cli("pause", "b")).out).toBe("paused b\n");
    expect((await cli("trigger", "a", "--wait")).code).toBe(0);
    const why = await cli("why", "b");
    expect(why.out).toMatch(/^b: paused, consistent$/m);
    expect(why.out).toMatch(
      /^trigger evaluations \(newest first\):\n {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}skipped {2,}a #\d+ succeeded: job b is paused$/m,
    );
    expect((await cli("resume", "b")).out).toBe("resumed b\n");
    expect((await cli("why", "b")).out).toMatch(/^b: active, consistent$/m);
  });

  it("trace and state", async () => {
    const trace = await cli("trace", "b@1");
    expect(trace.code).toBe(0);
    expect(trace.out).toMatch(
      /^b #1 {2}\(flow [0-9a-f]{8}\)\n {2}<- a #1 {2}\(flow [0-9a-f]{8}\)\n {4}<- cfg #1 {2}\(by yaml, flow [0-9a-f]{8}\)\n$/,
    );
    const state = await cli("state", "a");
    expect(state.code).toBe(0);
    expect(state.out).toMatch(
      /^state of a from run \d+ \([0-9a-f]{12}\)\nPATH\s+SIZE\s+MODE\s+SHA\nlast-run\.txt\s+\d+\s+0644\s+[0-9a-f]{12}\n$/,
    );
    const missing = await cli("trace", "nope");
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^error \w+_NOT_FOUND: /);
  });

  it("cancel: a processing run ends cancelled", async () => {
    const started = await json(RunSchema, "trigger", "slow");
    // Processing starts before the script does: wait for its first line, so the cancel stops
    // a running script (a cancel before that ends the run before any line runs).
    await until("slow to print", async () => {
      const logs = await cli("logs", String(started.id));
      return logs.out.includes("sleeping") ? true : undefined;
    });
    const cancel = await cli("cancel", String(started.id));
    expect(cancel.code).toBe(0);
    expect(cancel.out).toMatch(/^cancelled slow #1: /);
    const follow = await cli("logs", String(started.id), "--follow");
    expect(follow.code).toBe(1);
    expect(follow.out).toContain("sleeping");
    expect((await json(RunSchema, "run", String(started.id))).status).toBe("cancelled");
  });

  it("rerun --wait: the exact inputs of the original run, on a terminal with the live view", async () => {
    const [first] = (await runsOf("a")).slice(-1);
    const run = await runCausewayCli(["rerun", String(first?.id), "--wait", "--data", dataDir], {
      isTTY: true,
      now: () => new Date(),
    });
    expect(run.err).toBe("");
    expect(run.code).toBe(0);
    expect(run.out).toContain("\r\u001b[2K✔ a");
    const [latest] = await runsOf("a");
    expect(latest).toMatchObject({ rerunOf: first?.id, status: "success", inputs: first?.inputs });
  });

  it("trigger --wait exits 1 when the run fails, and says why", async () => {
    const run = await cli("trigger", "broken", "--wait");
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/^\d\d:\d\d:\d\d broken #1 failure \(.*exit code 3.*\)$/m);
    const json = await cli("trigger", "broken", "--wait", "--json");
    expect(json.code).toBe(1);
    expect(RunSchema.parse(JSON.parse(json.out))).toMatchObject({ job: "broken", number: 2, status: "failure" });
  });

  it("errors of the server exit 1 with their code", async () => {
    const run = await cli("trigger", "nope");
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^error JOB_NOT_FOUND: /);
    const bad = await runCausewayCli(["runs", "--server", server.url, "--token", "wrong"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^error UNAUTHORIZED: /);
    expect(bad.err).toContain("hint: the token sent came from --token;");
  });

  it("a name that is not a job gets the nearest names, or what it is and what to do instead", async () => {
    const typo = await cli("trigger", "slwo");
    expect([typo.code, typo.err]).toEqual([
      1,
      'error JOB_NOT_FOUND: no job named slwo\n  hint: did you mean "slow"?\n',
    ]);
    const resource = await cli("trigger", "cfg");
    expect(resource.code).toBe(1);
    expect(resource.err).toMatch(
      /^error JOB_NOT_FOUND: cfg is a resource, not a job\n {2}hint: .*causeway put-version cfg/,
    );
  });
});

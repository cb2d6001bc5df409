import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../src/program.js";
import { sendJson, startCanned, type CannedServer } from "./canned-server.js";
import { makeRun, makeVersion, runCausewayCli, type CliOptions, type CliRun } from "./fixtures.js";

// Times print in local time: pin the zone so the expected text is the same everywhere.
process.env.TZ = "UTC";

let server: CannedServer;
let tmp = "";

beforeEach(async () => {
  server = await startCanned();
});
afterEach(() => server.close());
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "causeway-commands-"));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

function cli(argv: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  return runCausewayCli([...argv, "--server", server.url, "--token", "t"], options);
}

const FLOW = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const RUNS = [
  makeRun({
    id: 12,
    job: "deploy",
    number: 4,
    status: "processing",
    trigger: { kind: "upstream", by: "build", runId: 11 },
    createdAt: "2030-01-02T10:04:00.000Z",
    startedAt: "2030-01-02T10:04:30.000Z",
  }),
  makeRun({
    id: 11,
    job: "build",
    number: 7,
    status: "failure",
    statusReason: "exit code 2",
    exitCode: 2,
    createdAt: "2030-01-02T08:00:00.000Z",
    startedAt: "2030-01-02T08:00:01.000Z",
    finishedAt: "2030-01-02T08:03:05.500Z",
    inputs: [
      {
        name: "app-repo",
        kind: "resource",
        type: "gitRepo",
        versionId: 3,
        versionNumber: 3,
        versionName: "abc123",
        pinned: false,
      },
      {
        name: "config",
        kind: "resource",
        type: "params",
        versionId: 5,
        versionNumber: 2,
        versionName: "",
        pinned: true,
      },
      {
        name: "tools",
        kind: "job",
        type: "runSh",
        versionId: null,
        versionNumber: null,
        versionName: null,
        pinned: false,
      },
    ],
    params: { TARGET: "staging" },
  }),
];

describe("usage problems exit 2 before any request", () => {
  it.each([
    { argv: ["run", "abc"], err: /a run id must be a positive integer, got "abc"/ },
    { argv: ["run", "0"], err: /a run id must be a positive integer/ },
    { argv: ["logs", "1.5"], err: /a run id must be a positive integer/ },
    { argv: ["cancel", "-3"], err: /unknown option|positive integer/ },
    { argv: ["rerun", "x"], err: /a run id must be a positive integer/ },
    { argv: ["trigger", "build", "--param", "NOVALUE"], err: /--param must be KEY=VALUE, got "NOVALUE"/ },
    { argv: ["trigger", "build", "--param", "=v"], err: /--param must be KEY=VALUE/ },
    { argv: ["trigger", "build", "--pin", "repo"], err: /--pin must be RESOURCE=VERSIONNUMBER/ },
    {
      argv: ["trigger", "build", "--pin", "repo=latest"],
      err: /version number of --pin repo must be a positive integer/,
    },
    { argv: ["runs", "--status", "done"], err: /--status must be among waiting, queued/ },
    { argv: ["runs", "--limit", "0"], err: /--limit must be a positive integer/ },
    { argv: ["versions", "repo", "--limit", "many"], err: /--limit must be a positive integer/ },
    { argv: ["pin", "build", "repo", "v3"], err: /the version number must be a positive integer/ },
    { argv: ["pin", "build", "repo"], err: /missing required argument/ },
    { argv: ["trace", "repo@x"], err: /the version number after @ must be a positive integer/ },
    { argv: ["put-version", "repo", "novalue"], err: /a property must be KEY=VALUE/ },
    { argv: ["trigger"], err: /missing required argument 'job'/ },
    { argv: ["up", ".", "--port", "http"], err: /--port must be a port number/ },
    { argv: ["up", ".", "--port", "70000"], err: /--port must be a port number/ },
  ])("causeway $argv", async ({ argv, err }) => {
    // `up` starts the server: it has no --server option.
    const run = argv[0] === "up" ? await runCausewayCli(argv) : await cli(argv);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(err);
    expect(run.out).toBe("");
    expect(server.received).toEqual([]);
  });
});

describe("causeway runs", () => {
  beforeEach(() => server.on("GET /api/v1/runs", (_req, res) => sendJson(res, 200, RUNS)));

  it("prints a table: id, job, #number, status, trigger, flow, created, duration", async () => {
    const run = await cli(["runs"]);
    expect(run.code).toBe(0);
    expect(run.out).toMatchInlineSnapshot(`
      "ID  JOB     #  STATUS      TRIGGER         FLOW      CREATED  DURATION
      12  deploy  4  processing  upstream build  0f1e2d3c  1m ago   30s
      11  build   7  failure     manual alice    0f1e2d3c  2h ago   3m04s
      "
    `);
  });

  it("--json prints the runs exactly as the protocol gives them, newest first", async () => {
    const run = await cli(["runs", "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toEqual(RUNS);
  });

  it("passes the filters to the server", async () => {
    await cli(["runs", "--job", "build", "--flow", FLOW, "--status", "failure,success", "--limit", "5"]);
    const q = server.received[0]?.query;
    expect(Object.fromEntries(q ?? [])).toEqual({ job: "build", flow: FLOW, status: "failure,success", limit: "5" });
  });

  it("says so when there is no run", async () => {
    server.on("GET /api/v1/runs", (_req, res) => sendJson(res, 200, []));
    expect((await cli(["runs"])).out).toBe("no runs\n");
  });
});

// The console of run 11 as the runner writes it (docs/console-format.md).
const RUN_11_CONSOLE = [
  '__SH__GROUP__START__|{"type":"grp","sequenceNumber":1893571201000,"id":"setup","is_shown":"false"}|Setup',
  "workspace: /tmp/w/11-1",
  '__SH__GROUP__END__|{"type":"grp","sequenceNumber":1893571201000,"id":"setup","is_shown":"false","exitcode":"0","durationMs":86}|Setup',
  '__SH__GROUP__START__|{"type":"grp","sequenceNumber":1893571201086,"id":"t1","is_shown":"true"}|Executing task: Task 1',
  '__SH__CMD__START__|{"type":"cmd","sequenceNumber":1893571201086,"id":"t1-1"}|make all\\necho done',
  "make: *** No rule to make target 'all'.  Stop.",
  "",
  '__SH__CMD__END__|{"type":"cmd","sequenceNumber":1893571201086,"id":"t1-1","exitcode":"2","durationMs":183900}|make all\\necho done',
  '__SH__GROUP__END__|{"type":"grp","sequenceNumber":1893571201086,"id":"t1","is_shown":"false","exitcode":"2","durationMs":183914}|Executing task: Task 1',
  "__SH__SCRIPT_END_FAILURE__",
  "",
].join("\n");

describe("causeway run", () => {
  beforeEach(() => {
    server.on("GET /api/v1/runs/11", (_req, res) => sendJson(res, 200, RUNS[1]));
    server.on("GET /api/v1/runs/11/logs", (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain", "x-run-status": "failure" });
      res.end(RUN_11_CONSOLE);
    });
  });

  it("prints the run with its frozen inputs and the steps of its console", async () => {
    const run = await cli(["run", "11"]);
    expect(run.code).toBe(0);
    expect(run.out).toMatchInlineSnapshot(`
      "build #7  failure  (id 11)
        reason     exit code 2
        trigger    manual alice
        flow       0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0
        created    2030-01-02 08:00:00 (2h ago)
        started    2030-01-02 08:00:01
        finished   2030-01-02 08:03:05
        duration   3m04s
        exit code  2
        priority   0
        params     TARGET=staging

      inputs:
        NAME      KIND      TYPE     VERSION  VERSION NAME
        app-repo  resource  gitRepo  #3       abc123
        config    resource  params   #2                     pinned
        tools     job       runSh    -

      steps:
           EXIT  DURATION  STEP
        ✔  0     86ms      Setup
        ✘  2     3m03s     Executing task: Task 1
        ✘  2     3m03s       $ make all …
      "
    `);
  });

  it("--json prints the run", async () => {
    expect(JSON.parse((await cli(["run", "11", "--json"])).out)).toEqual(RUNS[1]);
  });
});

describe("causeway logs", () => {
  beforeEach(() =>
    server.on("GET /api/v1/runs/11/logs", (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain", "x-next-offset": "12", "x-run-status": "failure" });
      res.end("hello\nworld\n");
    }),
  );

  it("prints a log without console markers as it is", async () => {
    const run = await cli(["logs", "11"]);
    expect(run).toEqual({ code: 0, out: "hello\nworld\n", err: "" });
    expect(server.received[0]?.query.get("offset")).toBe("0");
  });

  it("--raw prints the stored bytes, even those that are not UTF-8", async () => {
    const bytes = Buffer.from([0x5f, 0x5f, 0x53, 0x48, 0x5f, 0x5f, 0xff, 0x0a]);
    server.on("GET /api/v1/runs/12/logs", (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain", "x-run-status": "success" });
      res.end(bytes);
    });
    const written: Uint8Array[] = [];
    const code = await runCli(["logs", "12", "--raw", "--server", server.url, "--token", "t"], {
      out: () => undefined,
      outBytes: (b) => void written.push(b),
      err: () => undefined,
      color: false,
      cwd: tmp,
    });
    expect(code).toBe(0);
    expect(Buffer.concat(written)).toEqual(bytes);
  });

  it("--raw with --json is a usage error", async () => {
    const run = await cli(["logs", "11", "--raw", "--json"]);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/^error: --raw and --json cannot be used together/);
  });

  it("--json prints the text with the next offset and the status", async () => {
    const run = await cli(["logs", "11", "--json"]);
    expect(JSON.parse(run.out)).toEqual({ run: 11, status: "failure", nextOffset: 12, text: "hello\nworld\n" });
  });
});

describe("commands that change a job or a run", () => {
  it("cancel", async () => {
    server.on("POST /api/v1/runs/12/cancel", (_req, res) => sendJson(res, 200, { ...RUNS[0], status: "cancelled" }));
    const run = await cli(["cancel", "12"]);
    expect(run).toEqual({ code: 0, out: "cancelled deploy #4: cancelled\n", err: "" });
    expect(JSON.parse((await cli(["cancel", "12", "--json"])).out)).toMatchObject({ id: 12, status: "cancelled" });
  });

  it.each([
    { argv: ["pause", "build"], route: "POST /api/v1/jobs/build/pause", out: "paused build\n", body: undefined },
    { argv: ["resume", "build"], route: "POST /api/v1/jobs/build/resume", out: "resumed build\n", body: undefined },
    {
      argv: ["pin", "build", "app-repo", "3"],
      route: "PUT /api/v1/jobs/build/pins/app-repo",
      out: "pinned app-repo to version #3 for build\n",
      body: { versionNumber: 3 },
    },
    {
      argv: ["unpin", "build", "app-repo"],
      route: "DELETE /api/v1/jobs/build/pins/app-repo",
      out: "unpinned app-repo for build\n",
      body: undefined,
    },
  ])("$argv", async ({ argv, route, out, body }) => {
    server.on(route, (_req, res) => sendJson(res, 200, { ok: true }));
    const run = await cli(argv);
    expect(run).toEqual({ code: 0, out, err: "" });
    expect(server.received[0]?.body).toEqual(body);
    expect(JSON.parse((await cli([...argv, "--json"])).out)).toEqual({ ok: true });
  });

  it("a server-side refusal exits 1 with its code", async () => {
    server.on("PUT /api/v1/jobs/build/pins/nope", (_req, res) =>
      sendJson(res, 400, { error: { code: "NOT_AN_INPUT", message: "nope is not an IN of build", requestId: "r1" } }),
    );
    const run = await cli(["pin", "build", "nope", "1"]);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^error NOT_AN_INPUT: nope is not an IN of build/);
  });
});

describe("causeway versions and put-version", () => {
  const versions = [
    makeVersion({
      id: 9,
      versionNumber: 2,
      versionName: "v1.0.1",
      propertyBag: { sha: "abc", n: 2 },
      createdAt: "2030-01-02T10:04:50.000Z",
      createdBy: "run:11",
      runId: 11,
      run: { job: "build", number: 7 },
      flow: FLOW,
    }),
    makeVersion({ id: 4, versionNumber: 1, versionName: "v1.0.0", createdAt: "2030-01-01T10:00:00.000Z" }),
  ];

  it("versions: a table, newest first", async () => {
    server.on("GET /api/v1/objects/img/versions", (_req, res) => sendJson(res, 200, versions));
    const run = await cli(["versions", "img", "--limit", "2"]);
    expect(run.code).toBe(0);
    expect(server.received[0]?.query.get("limit")).toBe("2");
    expect(run.out).toMatchInlineSnapshot(`
      "#  VERSION NAME  CREATED  BY        RUN ID  FLOW      PROPERTIES
      2  v1.0.1        10s ago  build #7  11      0f1e2d3c  sha=abc n=2
      1  v1.0.0        1d ago   yaml      -       -
      "
    `);
  });

  it("versions: a commit's 40 digits are shortened as git shortens them; --wide shows them whole", async () => {
    const sha = "c0ffee1234567890abcdef1234567890abcdef12";
    const commits = [makeVersion({ versionNumber: 3, versionName: sha, createdBy: "git", flow: FLOW })];
    server.on("GET /api/v1/objects/repo/versions", (_req, res) => sendJson(res, 200, commits));
    const short = await cli(["versions", "repo"]);
    expect(short.out).toMatch(/^3 {2}c0ffee1 {7}/m);
    expect(short.out).not.toContain(sha);
    const wide = await cli(["versions", "repo", "--wide"]);
    expect(wide.out).toContain(`3  ${sha}  `);
    expect(wide.out).toContain(FLOW);
    expect(JSON.parse((await cli(["versions", "repo", "--json"])).out)[0].versionName).toBe(sha);
  });

  it("versions --json: the protocol's versions", async () => {
    server.on("GET /api/v1/objects/img/versions", (_req, res) => sendJson(res, 200, versions));
    expect(JSON.parse((await cli(["versions", "img", "--json"])).out)).toEqual(versions);
  });

  it("put-version: versionName names the version, other keys fill the propertyBag", async () => {
    server.on("POST /api/v1/objects/img/versions", (_req, res) =>
      sendJson(res, 201, { version: versions[0], runs: [makeRun({ id: 13, job: "deploy", number: 5 })] }),
    );
    const run = await cli(["put-version", "img", "versionName=v1.0.1", "sha=abc", "url=http://x/?a=b"]);
    expect(server.received[0]?.body).toEqual({
      versionName: "v1.0.1",
      propertyBag: { sha: "abc", url: "http://x/?a=b" },
    });
    expect(run).toEqual({ code: 0, out: 'created img #2 "v1.0.1"\ntriggered deploy #5 (id 13)\n', err: "" });
    const json = JSON.parse((await cli(["put-version", "img", "--json"])).out);
    expect(server.received[1]?.body).toEqual({});
    expect(Object.keys(json)).toEqual(["version", "runs"]);
  });
});

describe("causeway state, trace and why", () => {
  it("state: the files of the latest state", async () => {
    server.on("GET /api/v1/jobs/deploy/state", (_req, res) =>
      sendJson(res, 200, {
        job: "deploy",
        runId: 12,
        stateSha: "0123456789abcdef0123",
        files: [
          { path: "deployed.txt", size: 12, mode: 0o644, sha: "aaaaaaaaaaaaaaaaaaaa" },
          { path: "bin/run.sh", size: 300, mode: 0o755, sha: "bbbbbbbbbbbbbbbbbbbb" },
        ],
      }),
    );
    const run = await cli(["state", "deploy"]);
    expect(run.out).toMatchInlineSnapshot(`
      "state of deploy from run 12 (0123456789ab)
      PATH          SIZE  MODE  SHA
      deployed.txt  12    0644  aaaaaaaaaaaa
      bin/run.sh    300   0755  bbbbbbbbbbbb
      "
    `);
  });

  it("state: a job without state", async () => {
    server.on("GET /api/v1/jobs/deploy/state", (_req, res) =>
      sendJson(res, 200, { job: "deploy", runId: null, stateSha: null, files: [] }),
    );
    expect((await cli(["state", "deploy"])).out).toBe("deploy has no state yet\n");
  });

  it("trace RESOURCE@N: an indented tree by depth", async () => {
    server.on("GET /api/v1/objects/img/trace", (_req, res) =>
      sendJson(res, 200, {
        version: makeVersion({
          versionNumber: 2,
          versionName: "v2",
          createdBy: "run:11",
          runId: 11,
          run: { job: "build", number: 7 },
          flow: FLOW,
        }),
        entries: [
          {
            depth: 1,
            name: "build",
            versionNumber: 7,
            versionName: "",
            createdBy: "run:11",
            createdAt: "2030-01-02T10:00:00Z",
            runId: 11,
            run: { job: "build", number: 7 },
            flow: FLOW,
          },
          {
            depth: 2,
            name: "app-repo",
            versionNumber: 3,
            versionName: "c0ffee1234567890abcdef1234567890abcdef12",
            createdBy: "git",
            createdAt: "2030-01-02T09:00:00Z",
            runId: null,
            run: null,
            flow: FLOW,
          },
        ],
      }),
    );
    const run = await cli(["trace", "img@2"]);
    expect(server.received[0]?.query.get("versionNumber")).toBe("2");
    expect(run.out).toMatchInlineSnapshot(`
      "img #2 "v2"  (by build #7, flow 0f1e2d3c)
        <- build #7  (flow 0f1e2d3c)
          <- app-repo #3 "c0ffee1"  (by git, flow 0f1e2d3c)
      "
    `);
    await cli(["trace", "img"]);
    expect(server.received[1]?.query.has("versionNumber")).toBe(false);
  });

  it("why: pending runs with what holds them, then the explain records newest first", async () => {
    server.on("GET /api/v1/jobs/deploy/why", (_req, res) =>
      sendJson(res, 200, {
        job: "deploy",
        paused: true,
        consistent: true,
        pins: { img: 2 },
        pending: [
          { run: makeRun({ id: 14, job: "deploy", number: 6, status: "waiting" }), reason: "the job is paused" },
        ],
        explains: [
          {
            id: 1,
            job: "deploy",
            at: "2030-01-02T09:00:00Z",
            event: "new version 2 of img (api)",
            outcome: "created",
            runId: 12,
            runNumber: 5,
            message: "",
          },
          {
            id: 2,
            job: "deploy",
            at: "2030-01-02T10:00:00Z",
            event: "build #3 succeeded",
            outcome: "waiting",
            runId: 14,
            runNumber: 6,
            message: "upstream build is running (strict)",
          },
          {
            id: 3,
            job: "deploy",
            at: "2030-01-02T10:00:00Z",
            event: "new version 3 of img (api)",
            outcome: "skipped",
            runId: null,
            runNumber: null,
            message: "input img has switch: off",
          },
        ],
      }),
    );
    const run = await cli(["why", "deploy"]);
    expect(run.out).toMatchInlineSnapshot(`
      "deploy: paused, consistent, pins: img@2
      pending:
        deploy #6 waiting: the job is paused (id 14)
      trigger evaluations (newest first):
        2030-01-02 10:00:00  skipped             new version 3 of img (api): input img has switch: off
        2030-01-02 10:00:00  waiting  deploy #6  build #3 succeeded: upstream build is running (strict)
        2030-01-02 09:00:00  created  deploy #5  new version 2 of img (api)
      "
    `);
    expect(JSON.parse((await cli(["why", "deploy", "--json"])).out)).toMatchObject({ job: "deploy", paused: true });
  });
});

describe("causeway apply", () => {
  const LINE = `resources:
  - name: repo
    type: params
    versionTemplate: { params: { A: 1 } }
jobs:
  - name: build
    type: runSh
    steps:
      - IN: repo
      - TASK: { script: [echo hi] }
`;

  let dir = "";
  beforeAll(async () => {
    dir = join(tmp, "line");
    await mkdir(join(dir, "sub"), { recursive: true });
    await mkdir(join(dir, ".hidden"), { recursive: true });
    await writeFile(join(dir, "line.causeway.yml"), LINE);
    await writeFile(
      join(dir, "sub", "more.causeway.yml"),
      "jobs:\n  - name: other\n    type: runSh\n    steps:\n      - IN: nope\n",
    );
    await writeFile(join(dir, ".hidden", "x.causeway.yml"), "jobs: []\n");
    await writeFile(join(dir, "README.md"), "not a pipeline file\n");
  });

  const answer = {
    ok: false,
    applied: true,
    added: ["repo", "build"],
    changed: ["other"],
    removed: ["old"],
    versioned: ["repo"],
    kept: [],
    files: [
      { path: "line.causeway.yml", status: "loaded" },
      { path: "sub/more.causeway.yml", status: "loaded" },
    ],
    applyId: 7,
    diagnostics: [
      {
        code: "PIPELINE_UNKNOWN_REFERENCE",
        severity: "error",
        file: "sub/more.causeway.yml",
        line: 5,
        col: 9,
        message: "IN nope of job other is not defined",
      },
      {
        code: "SERVER_SIDE",
        severity: "warning",
        file: "line.causeway.yml",
        line: 1,
        col: 1,
        message: "from the server",
        hint: "a hint",
      },
    ],
  };

  it("sends the pipeline files by the file rules and prints what changed", async () => {
    server.on("POST /api/v1/apply", (_req, res) => sendJson(res, 200, answer));
    const run = await cli(["apply", dir], { env: { USER: "alice" } });
    expect(server.received[0]?.body).toEqual({
      files: [
        { path: "line.causeway.yml", text: LINE },
        {
          path: "sub/more.causeway.yml",
          text: "jobs:\n  - name: other\n    type: runSh\n    steps:\n      - IN: nope\n",
        },
      ],
      baseDir: dir,
      source: "cli",
      user: "alice",
    });
    expect(run.code).toBe(1);
    expect(run.out).toContain("error PIPELINE_UNKNOWN_REFERENCE: IN nope of job other is not defined");
    expect(run.out).toContain("> 5 |       - IN: nope\n    |         ^^^^^^^^");
    expect(run.out).toContain("warning SERVER_SIDE: from the server\n  at line.causeway.yml:1:1\n  hint: a hint");
    expect(
      run.out.endsWith(
        "applied: 2 added, 1 changed, 1 removed\n  + repo\n  + build\n  ~ other\n  - old\nnew versions from YAML: repo\n",
      ),
    ).toBe(true);
    expect(run.out.match(/PIPELINE_UNKNOWN_REFERENCE/g)).toHaveLength(1);
  });

  it("exits 0 on a clean line and --json prints the ApplyResult", async () => {
    const clean = { ...answer, ok: true, diagnostics: [] };
    server.on("POST /api/v1/apply", (_req, res) => sendJson(res, 200, clean));
    await writeFile(join(dir, "sub", "more.causeway.yml"), "jobs: []\n");
    const run = await cli(["apply", dir, "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toEqual(clean);
  });

  it("says what was refused and kept, sends files over the cap as unread, and exits 1", async () => {
    const broken = join(tmp, "broken");
    await mkdir(broken, { recursive: true });
    await writeFile(join(broken, "a.causeway.yml"), LINE);
    await writeFile(join(broken, "b.causeway.yml"), "jobs: [\n");
    await writeFile(join(broken, "c.causeway.yml"), `jobs: []\n${"#".repeat(5 * 1024 * 1024)}\n`);
    const refusedAnswer = {
      ...answer,
      ok: false,
      added: [],
      changed: ["build"],
      removed: [],
      versioned: [],
      kept: ["nightly", "report", "smoke"],
      files: [
        { path: "a.causeway.yml", status: "loaded" },
        {
          path: "b.causeway.yml",
          status: "refused",
          reason: {
            code: "PIPELINE_YAML_SYNTAX",
            severity: "error",
            file: "b.causeway.yml",
            line: 2,
            col: 1,
            message: "Unexpected flow-seq-end",
          },
        },
        {
          path: "c.causeway.yml",
          status: "refused",
          reason: {
            code: "PIPELINE_FILE_TOO_LARGE",
            severity: "error",
            file: "c.causeway.yml",
            line: 1,
            col: 1,
            message: "file is 5242890 bytes, over the cap of 4194304; it is not read",
          },
        },
      ],
      diagnostics: [],
    };
    server.on("POST /api/v1/apply", (_req, res) => sendJson(res, 200, refusedAnswer));
    const run = await cli(["apply", broken]);
    const body = server.received[0]?.body as { files: { path: string }[]; unread: unknown[] };
    expect(body.files.map((f) => f.path)).toEqual(["a.causeway.yml", "b.causeway.yml"]);
    expect(body.unread).toEqual([
      { path: "c.causeway.yml", code: "PIPELINE_FILE_TOO_LARGE", message: expect.stringContaining("over the cap") },
    ]);
    expect(run.code).toBe(1);
    expect(run.out).toBe(
      [
        "applied: 0 added, 1 changed, 0 removed; refused 2 files (their 3 objects kept as they were)",
        "  ~ build",
        "  ✗ b.causeway.yml: b.causeway.yml:2:1 PIPELINE_YAML_SYNTAX Unexpected flow-seq-end",
        "  ✗ c.causeway.yml: c.causeway.yml:1:1 PIPELINE_FILE_TOO_LARGE file is 5242890 bytes, over the cap of 4194304; it is not read",
        "kept as they were: nightly, report, smoke",
        "",
      ].join("\n"),
    );
  });

  it("a directory that does not exist is a usage problem", async () => {
    const run = await cli(["apply", join(tmp, "nowhere")]);
    expect(run.code).toBe(2);
    expect(server.received).toEqual([]);
  });
});

describe("causeway applies", () => {
  const APPLIES = [
    {
      id: 14,
      at: "2030-01-02T10:04:48.000Z",
      source: "watcher",
      by: "watcher",
      dir: "/home/me/line",
      files: [
        { path: "a.causeway.yml", status: "loaded" },
        {
          path: "b.causeway.yml",
          status: "refused",
          reason: {
            code: "PIPELINE_YAML_SYNTAX",
            severity: "error",
            file: "b.causeway.yml",
            line: 3,
            col: 7,
            message: "Unexpected flow-seq-end",
          },
        },
      ],
      added: [],
      changed: ["build"],
      removed: [],
      kept: ["nightly", "report"],
      errors: 1,
      warnings: 0,
      problems: [],
    },
    {
      id: 13,
      at: "2030-01-02T09:05:00.000Z",
      source: "cli",
      by: "alice",
      dir: "/home/me/line",
      files: [
        { path: "a.causeway.yml", status: "loaded" },
        { path: "b.causeway.yml", status: "loaded" },
      ],
      added: ["build", "nightly", "report"],
      changed: [],
      removed: [],
      kept: [],
      errors: 0,
      warnings: 0,
      problems: [],
    },
  ];

  it("lists the applies newest first, with each refused file's problem under its apply", async () => {
    server.on("GET /api/v1/applies", (_req, res) => sendJson(res, 200, APPLIES));
    const run = await cli(["applies", "--limit", "5"], { now: () => new Date("2030-01-02T10:05:00.000Z") });
    expect(server.received[0]?.query.get("limit")).toBe("5");
    expect(run.code).toBe(0);
    expect(run.out).toBe(
      [
        "ID  WHEN     SOURCE   BY       FILES          RESULT",
        "14  12s ago  watcher  watcher  2 (1 refused)  0 added, 1 changed, 0 removed, 2 kept; 1 error",
        "    ✗ b.causeway.yml: b.causeway.yml:3:7 PIPELINE_YAML_SYNTAX Unexpected flow-seq-end",
        "13  1h ago   cli      alice    2              3 added, 0 changed, 0 removed; 0 errors",
        "",
      ].join("\n"),
    );
  });

  it("asks for 20 by default, prints --json as the server gave it, and says when there is none", async () => {
    server.on("GET /api/v1/applies", (_req, res) => sendJson(res, 200, APPLIES));
    expect(JSON.parse((await cli(["applies", "--json"])).out)).toEqual(APPLIES);
    expect(server.received[0]?.query.get("limit")).toBe("20");
    server.on("GET /api/v1/applies", (_req, res) => sendJson(res, 200, []));
    expect((await cli(["applies"])).out).toBe("no applies yet\n");
    expect((await cli(["applies", "--limit", "0"])).code).toBe(2);
  });
});

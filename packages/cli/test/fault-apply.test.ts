import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApplyRecordSchema, ApplyResultSchema, ObjectSummarySchema } from "@causeway/protocol";
import { passthroughEnv } from "@causeway/runner";
import { silentLogger, startServer, type RunningServer } from "@causeway/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { runCausewayCli, type CliRun } from "./fixtures.js";

// `causeway apply` and `causeway applies` on a line with a broken file, against the real server
// (SQLite, engine, embedded runner) on a free port: what was applied and what was refused, the
// exit code, and the apply history (issue 8, docs/cli.md).

const A = `jobs:
  - name: build
    type: runSh
    steps:
      - TASK:
          script: [make]
`;
const B = `resources:
  - name: knob
    type: params
    versionTemplate:
      params: { N: "1" }
jobs:
  - name: report
    type: runSh
    steps:
      - IN: knob
      - IN: build
      - TASK:
          script: [./report]
`;

let root = "";
let dataDir = "";
let lineDir = "";
let server: RunningServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "causeway-cli-fault-"));
  dataDir = join(root, "data");
  lineDir = join(root, "line");
  await mkdir(lineDir);
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

/** The names of the line's resources and jobs, as the server holds them. */
async function names(): Promise<string[]> {
  const list = async (kind: string) => {
    const res = await fetch(`${server.url}/api/v1/${kind}`, { headers: { authorization: `Bearer ${server.token}` } });
    return z.array(ObjectSummarySchema).parse(await res.json());
  };
  return [...(await list("resources")), ...(await list("jobs"))].map((o) => o.name).sort();
}

describe("causeway apply with a broken file", () => {
  it("applies what loads, keeps what the broken file defined, says both, and exits 1; fixed, it exits 0", async () => {
    await writeFile(join(lineDir, "a.causeway.yml"), A);
    await writeFile(join(lineDir, "b.causeway.yml"), B);
    const first = await cli("apply", lineDir);
    expect(first.code).toBe(0);
    expect(first.out).toContain("applied: 3 added, 0 changed, 0 removed\n");

    await writeFile(join(lineDir, "a.causeway.yml"), A.replace("[make]", "[make all]"));
    await writeFile(
      join(lineDir, "b.causeway.yml"),
      B.replace("  - name: report\n", "  - name: report\n    steps: [\n"),
    );
    const broken = await cli("apply", lineDir);
    expect(broken.code).toBe(1);
    expect(broken.err).toBe("");
    // The syntax error with its code frame, then the summary.
    expect(broken.out).toMatch(/^error PIPELINE_YAML_SYNTAX: /m);
    expect(broken.out).toMatch(/^ {2}at b\.causeway\.yml:9:5\n.*\n.*\n> {2}9 \| {5}type: runSh\n/m);
    expect(broken.out).toMatch(
      /applied: 0 added, 1 changed, 0 removed; refused 1 file \(its 2 objects kept as they were\)\n {2}~ build\n {2}✗ b\.causeway\.yml: b\.causeway\.yml:\d+:\d+ PIPELINE_YAML_SYNTAX .+\nkept as they were: knob, report\n$/,
    );
    // The references to the kept objects resolve on the server: no unknown reference.
    expect(broken.out).not.toContain("PIPELINE_UNKNOWN_REFERENCE");
    expect(await names()).toEqual(["build", "knob", "report"]);

    const json = ApplyResultSchema.parse(JSON.parse((await cli("apply", lineDir, "--json")).out));
    expect(json).toMatchObject({ ok: false, applied: true, removed: [], kept: ["knob", "report"] });

    await writeFile(join(lineDir, "b.causeway.yml"), B.replace("[./report]", "[./report --all]"));
    const fixed = await cli("apply", lineDir);
    expect(fixed.code).toBe(0);
    expect(fixed.out).toBe("applied: 0 added, 1 changed, 0 removed\n  ~ report\n");
  });

  it("a file over the size cap is not sent: the server keeps what it defined", async () => {
    await writeFile(join(lineDir, "b.causeway.yml"), `${B}#${"x".repeat(4 * 1024 * 1024 + 16)}\n`);
    const run = await cli("apply", lineDir);
    expect(run.code).toBe(1);
    expect(run.out).toContain("error PIPELINE_FILE_TOO_LARGE: file is ");
    expect(run.out).toContain(
      "applied: 0 added, 0 changed, 0 removed; refused 1 file (its 2 objects kept as they were)\n  ✗ b.causeway.yml: b.causeway.yml:1:1 PIPELINE_FILE_TOO_LARGE",
    );
    expect(await names()).toEqual(["build", "knob", "report"]);
    await writeFile(join(lineDir, "b.causeway.yml"), B);
  });

  it("causeway applies lists the history, newest first, with the refused files and who applied", async () => {
    const run = await cli("applies");
    expect(run.code).toBe(0);
    const lines = run.out.split("\n");
    expect(lines[0]).toMatch(/^ID +WHEN +SOURCE +BY +FILES +RESULT$/);
    expect(lines[1]).toMatch(
      /^\d+ +\d+s ago +cli +tester +2 \(1 refused\) +0 added, 0 changed, 0 removed, 2 kept; 1 error$/,
    );
    expect(lines[2]).toMatch(/^ {4}✗ b\.causeway\.yml: b\.causeway\.yml:1:1 PIPELINE_FILE_TOO_LARGE file is \d+ bytes/);
    const history = z.array(ApplyRecordSchema).parse(JSON.parse((await cli("applies", "--json", "--limit", "2")).out));
    expect(history).toHaveLength(2);
    expect(history[0]).toMatchObject({ source: "cli", by: "tester", dir: lineDir, kept: ["knob", "report"] });
    expect(history[1]).toMatchObject({ changed: ["report"], kept: [], errors: 0 });
  });
});

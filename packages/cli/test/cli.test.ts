import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../src/program.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(REPO, "packages/cli/bin/causeway.js");
const DIST_MAIN = join(REPO, "packages/cli/dist/main.js");

// A line with two warnings (a misspelt key, a job type that does not run yet) and no error.
const WARNINGS = `resources:
  - name: app-repo
    type: gitRepo
    integration: github
    versionTemplate:
      sourceName: acme/app
      branch: main
jobs:
  - name: build
    type: runSh
    dependancyMode: strict
    steps:
      - IN: app-repo
      - TASK:
          script:
            - make build
  - name: ship
    type: deploy
    steps:
      - IN: build
`;

// The same line with one error: an IN naming a resource that does not exist (line 20).
const ERRORS = `${WARNINGS}      - IN: app-rep
`;

// A small graph for every output format; the flag "web" marks build.
//
//   app-repo ──> build ──> img ──> deploy
//   app-params ╌╌(switch: off)╌╌> deploy
//   docs-repo ──> docs
const GRAPH = `resources:
  - name: app-repo
    type: gitRepo
    integration: github
    versionTemplate: { sourceName: acme/app, branch: main }
  - name: img
    type: image
    versionTemplate: { sourceName: acme/app, versionName: "1" }
  - name: app-params
    type: params
    versionTemplate: { params: { PORT: 80 } }
  - name: docs-repo
    type: gitRepo
    integration: github
    versionTemplate: { sourceName: acme/docs, branch: main }
jobs:
  - name: build
    type: runSh
    flags: [web]
    steps:
      - IN: app-repo
      - TASK: { script: [make] }
      - OUT: img
  - name: deploy
    type: runSh
    steps:
      - IN: img
      - IN: app-params
        switch: off
      - TASK: { script: [./deploy.sh] }
  - name: docs
    type: runSh
    steps:
      - IN: docs-repo
      - TASK: { script: [make docs] }
`;

let root = "";
const dir = (name: string): string => join(root, name);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "causeway-cli-"));
  for (const [name, text] of Object.entries({ warnings: WARNINGS, errors: ERRORS, graph: GRAPH })) {
    await mkdir(dir(name));
    await writeFile(join(dir(name), "line.causeway.yml"), text);
  }
  await mkdir(dir("not-a-line"));
  await mkdir(dir("refused"));
  await writeFile(join(dir("refused"), "good.causeway.yml"), WARNINGS);
  await writeFile(join(dir("refused"), "bad.causeway.yml"), "jobs: [\n");
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

async function cli(...argv: string[]): Promise<Run> {
  let out = "";
  let err = "";
  const code = await runCli(argv, { out: (s) => (out += s), err: (s) => (err += s), color: false, cwd: process.cwd() });
  return { code, out, err };
}

async function json(...argv: string[]): Promise<{ code: number; body: unknown }> {
  const run = await cli(...argv);
  return { code: run.code, body: JSON.parse(run.out) };
}

describe("causeway validate", () => {
  it("exits 0 when there are warnings only, and lists them", async () => {
    const run = await cli("validate", dir("warnings"));
    expect(run.code).toBe(0);
    expect(run.out).toContain("warning PIPELINE_UNKNOWN_KEY");
    expect(run.out).toContain("warning PIPELINE_UNSUPPORTED_JOB_TYPE");
    expect(run.out).toMatch(/^valid: 1 file, 1 resource, 2 jobs, 2 edges; 0 errors, 2 warnings, 0 infos$/m);
    // Valid, but not every job runs: the summary says which will not, and why.
    expect(run.out).toMatch(/^ {2}1 of 2 jobs will run; 1 will not: ship: job type deploy is not supported yet$/m);
    expect(run.err).toBe("");
  });

  it("exits 1 on an error and prints code, file:line:col, code frame, caret and hint", async () => {
    const { body } = await json("validate", dir("errors"), "--format", "json");
    const d = (body as { diagnostics: { code: string; line: number; col: number }[] }).diagnostics.find(
      (x) => x.code === "PIPELINE_UNKNOWN_REFERENCE",
    );
    expect(d?.line).toBe(21);
    const col = d?.col ?? 0;

    const run = await cli("validate", dir("errors"));
    expect(run.code).toBe(1);
    expect(run.out).toContain("error PIPELINE_UNKNOWN_REFERENCE");
    expect(run.out).toContain(`at line.causeway.yml:21:${col}`);
    const lines = run.out.split("\n");
    const frame = lines.findIndex((l) => /^> 21 \| {7}- IN: app-rep$/.test(l));
    expect(frame).toBeGreaterThan(0);
    const source = (lines[frame] ?? "").slice("> 21 | ".length);
    const caretLine = lines[frame + 1] ?? "";
    expect(caretLine).toMatch(/^ {5}\| +\^+$/);
    const caretCol = caretLine.indexOf("^") - "     | ".length + 1;
    expect(caretCol).toBe(col);
    // The caret sits under the step, not in the indentation.
    expect(source.slice(caretCol - 1)).toMatch(/^(- )?(IN: )?app-rep/);
    expect(run.out).toMatch(/^ {2}hint: .*app-repo/m);
    expect(run.out).toMatch(/^invalid: .* 1 error, 2 warnings/m);
  });

  it("writes exactly the documented JSON shape", async () => {
    const { code, body } = await json("validate", dir("errors"), "--format", "json");
    expect(code).toBe(1);
    const out = body as {
      ok: boolean;
      files: string[];
      refused: unknown[];
      diagnostics: Record<string, unknown>[];
      summary: Record<string, number>;
      jobs: unknown;
    };
    expect(Object.keys(out)).toEqual(["ok", "files", "refused", "diagnostics", "summary", "jobs"]);
    expect(out.jobs).toEqual({
      runnable: ["build"],
      notRunnable: [{ name: "ship", type: "deploy", reason: "it has errors (above)" }],
    });
    expect(out.ok).toBe(false);
    expect(out.files).toEqual(["line.causeway.yml"]);
    expect(out.refused).toEqual([]);
    expect(out.summary).toEqual({ resources: 1, jobs: 2, edges: 3 });
    const base = ["code", "severity", "file", "line", "col", "endLine", "endCol", "path", "message"];
    for (const d of out.diagnostics) {
      expect(Object.keys(d)).toEqual([...base, ...["hint", "subject"].filter((k) => k in d)]);
      expect(typeof d.line).toBe("number");
      expect(typeof d.col).toBe("number");
    }
    expect(out.diagnostics.map((d) => [d.code, d.severity, d.file, d.line, d.path])).toEqual([
      ["PIPELINE_UNKNOWN_KEY", "warning", "line.causeway.yml", 11, "jobs[0].dependancyMode"],
      ["PIPELINE_UNSUPPORTED_JOB_TYPE", "warning", "line.causeway.yml", 18, "jobs[1].type"],
      ["PIPELINE_UNKNOWN_REFERENCE", "error", "line.causeway.yml", 21, "jobs[1].steps[1].IN"],
    ]);
  });

  it("names each refused file with the problem that refused it", async () => {
    const text = await cli("validate", dir("refused"));
    expect(text.out).toContain(
      "\n  refused bad.causeway.yml (PIPELINE_YAML_SYNTAX at bad.causeway.yml:2:1): none of its objects is loaded\n",
    );
    const { code, body } = await json("validate", dir("refused"), "--json");
    expect(code).toBe(1);
    expect(body).toMatchObject({
      files: ["bad.causeway.yml", "good.causeway.yml"],
      refused: [{ path: "bad.causeway.yml", code: "PIPELINE_YAML_SYNTAX", file: "bad.causeway.yml", line: 2, col: 1 }],
    });
  });

  it("reports ok: true with warnings only", async () => {
    const { code, body } = await json("validate", dir("warnings"), "--format", "json");
    expect(code).toBe(0);
    expect(body).toMatchObject({ ok: true, summary: { resources: 1, jobs: 2, edges: 2 } });
  });

  it("warns, and exits 0, on a directory with no pipeline file", async () => {
    const { code, body } = await json("validate", dir("not-a-line"), "--format", "json");
    expect(code).toBe(0);
    expect((body as { diagnostics: { code: string }[] }).diagnostics.map((d) => d.code)).toEqual(["PIPELINE_NO_FILES"]);
  });

  it("colours the output only when asked", async () => {
    let out = "";
    await runCli(["validate", dir("errors")], {
      out: (s) => (out += s),
      err: () => undefined,
      color: true,
      cwd: process.cwd(),
    });
    expect(out).toContain("\u001b[31m");
    expect((await cli("validate", dir("errors"))).out).not.toContain("\u001b[");
  });
});

describe("usage problems exit 2", () => {
  it.each([
    { argv: ["validate", "/definitely/not/here"], err: /no such file or directory/ },
    { argv: ["graph", "GRAPH", "--flag", "nosuch"], err: /no resource or job has the flag "nosuch"/ },
    { argv: ["validate", ".", "--format", "yaml"], err: /--format must be text or json, got yaml/ },
    { argv: ["graph", ".", "--format", "yaml"], err: /--format must be one of text, dot, mermaid, json/ },
    { argv: ["validate", "--colour"], err: /unknown option '--colour'/ },
    { argv: ["frobnicate"], err: /unknown command 'frobnicate'/ },
    { argv: ["validate", "a", "b"], err: /too many arguments/ },
    { argv: [], err: /Usage: causeway/ },
  ])("causeway $argv", async ({ argv }) => {
    const args = argv.map((a) => (a === "GRAPH" ? dir("graph") : a));
    const run = await cli(...args);
    expect(run.code).toBe(2);
    expect(run.out).toBe("");
  });

  it.each([
    { argv: ["validate", "/definitely/not/here"], err: /no such file or directory: \/definitely\/not\/here/ },
    { argv: ["validate", ".", "--format", "yaml"], err: /--format must be text or json, got yaml/ },
    { argv: ["validate", "--colour"], err: /unknown option '--colour'/ },
    { argv: [], err: /Usage: causeway/ },
  ])("says why on stderr: $argv", async ({ argv, err }) => {
    expect((await cli(...argv)).err).toMatch(err);
  });

  it.each([["--help"], ["help"], ["validate", "--help"], ["--version"]])("causeway %s exits 0", async (...argv) => {
    const run = await cli(...argv);
    expect(run.code).toBe(0);
    expect(run.out).not.toBe("");
  });
});

describe("causeway graph", () => {
  it("text: jobs in topological order with their inputs and outputs", async () => {
    const run = await cli("graph", dir("graph"));
    expect(run.code).toBe(0);
    expect(run.out).toMatchInlineSnapshot(`
      "build (runSh)
        <- app-repo
        -> img
      docs (runSh)
        <- docs-repo
      deploy (runSh)
        <- img
        <- app-params  (switch: off)

      4 resources, 3 jobs, 5 edges
      "
    `);
  });

  it("dot", async () => {
    const run = await cli("graph", dir("graph"), "--format", "dot");
    expect(run.code).toBe(0);
    expect(run.out).toMatchInlineSnapshot(`
      "digraph causeway {
        rankdir=LR;
        node [fontname=Helvetica];
        "app-repo" [shape=ellipse, label="app-repo
      gitRepo"];
        "img" [shape=ellipse, label="img
      image"];
        "app-params" [shape=ellipse, label="app-params
      params"];
        "docs-repo" [shape=ellipse, label="docs-repo
      gitRepo"];
        "build" [shape=box, label="build
      runSh"];
        "deploy" [shape=box, label="deploy
      runSh"];
        "docs" [shape=box, label="docs
      runSh"];
        "app-repo" -> "build";
        "build" -> "img";
        "img" -> "deploy";
        "app-params" -> "deploy" [style=dashed];
        "docs-repo" -> "docs";
      }
      "
    `);
  });

  it("mermaid", async () => {
    const run = await cli("graph", dir("graph"), "--format", "mermaid");
    expect(run.code).toBe(0);
    expect(run.out).toMatchInlineSnapshot(`
      "flowchart LR
        n0(["app-repo"])
        n1(["img"])
        n2(["app-params"])
        n3(["docs-repo"])
        n4["build"]
        n5["deploy"]
        n6["docs"]
        n0 --> n4
        n4 --> n1
        n1 --> n5
        n2 -.-> n5
        n3 --> n6
      "
    `);
  });

  it("json: nodes in topological order, edges with step and switchOff", async () => {
    const { code, body } = await json("graph", dir("graph"), "--format", "json");
    expect(code).toBe(0);
    const graph = body as {
      nodes: { name: string }[];
      edges: { from: string; to: string; step: string; switchOff: boolean }[];
    };
    const order = graph.nodes.map((n) => n.name);
    expect(new Set(order)).toEqual(new Set(["app-repo", "img", "app-params", "docs-repo", "build", "deploy", "docs"]));
    for (const e of graph.edges) expect(order.indexOf(e.from)).toBeLessThan(order.indexOf(e.to));
    expect(graph.edges).toContainEqual({ from: "app-params", to: "deploy", step: "IN", switchOff: true });
    expect(graph.edges).toContainEqual({ from: "build", to: "img", step: "OUT", switchOff: false });
  });

  it("--flag keeps the flagged objects and their whole chain, and says so on stderr", async () => {
    const run = await cli("graph", dir("graph"), "--json", "--flag", "web");
    const names = (JSON.parse(run.out) as { nodes: { name: string }[] }).nodes.map((n) => n.name);
    // build's upstream and downstream; not app-params (upstream of deploy only), not docs.
    expect(new Set(names)).toEqual(new Set(["app-repo", "build", "img", "deploy"]));
    expect(run.err).toBe("flag web: 4 objects of 7 (those with the flag and their whole chain)\n");
  });

  it("--flag with a flag no object has is an error that lists the flags (exit 2)", async () => {
    const typo = await cli("graph", dir("graph"), "--flag", "wbe");
    expect([typo.code, typo.out]).toEqual([2, ""]);
    expect(typo.err).toBe(
      'error UNKNOWN_FLAG: no resource or job has the flag "wbe"\n  hint: did you mean "web"? (the flags of the line: web)\n',
    );
    const none = await cli("graph", dir("warnings"), "--flag", "web");
    expect(none.err).toContain("hint: the line has no flags");
  });

  it("--json is --format json", async () => {
    expect((await cli("graph", dir("graph"), "--json")).out).toBe(
      (await cli("graph", dir("graph"), "--format", "json")).out,
    );
  });

  it("still draws a line with errors, exits 0 and points to validate", async () => {
    const run = await cli("graph", dir("errors"));
    expect(run.code).toBe(0);
    expect(run.out).toContain("ship (deploy)  [inconsistent]");
    expect(run.err).toMatch(/^1 error: run causeway validate/);
  });
});

describe("causeway validate FILE", () => {
  // A line split over files: validating one file alone reports its references to the objects of
  // the others as such, and a typo as a typo.
  let split = "";
  beforeAll(async () => {
    split = join(root, "split");
    await mkdir(split);
    await writeFile(
      join(split, "shippable.resources.yml"),
      "resources:\n  - name: app_repo\n    type: params\n    version: { a: 1 }\n",
    );
    await writeFile(
      join(split, "shippable.jobs.yml"),
      "jobs:\n  - name: build\n    type: runSh\n    steps:\n      - IN: app_repo\n      - IN: app_rpeo\n      - TASK:\n          - script: make\n",
    );
  });

  it("validates the file alone: references to other files are infos, a typo is an error", async () => {
    const run = await cli("validate", join(split, "shippable.jobs.yml"));
    expect(run.code).toBe(1);
    expect(run.out).toContain(
      "info PIPELINE_REFERENCE_ELSEWHERE: IN app_repo of job build is defined in shippable.resources.yml, which was not validated with this file",
    );
    expect(run.out).toContain("error PIPELINE_UNKNOWN_REFERENCE: IN app_rpeo of job build is not defined");
    expect(run.out).toMatch(/^invalid: 1 file, 0 resources, 1 job, 2 edges; 1 error, 0 warnings, 1 info$/m);
  });

  it("--json names the file, and the directory is still the whole line", async () => {
    const { code, body } = await json("validate", join(split, "shippable.resources.yml"), "--json");
    expect(code).toBe(0);
    expect(body).toMatchObject({ ok: true, file: "shippable.resources.yml", files: ["shippable.resources.yml"] });
    const whole = await json("validate", split, "--json");
    expect(whole.body).toMatchObject({ files: ["shippable.jobs.yml", "shippable.resources.yml"] });
    expect(whole.body).not.toHaveProperty("file");
  });
});

describe("causeway validate groups one problem met in many places", () => {
  it("prints one block per undefined name, with its count and first places; --json keeps every one", async () => {
    const many = join(root, "many");
    await mkdir(many);
    const jobs = Array.from(
      { length: 6 },
      (_, i) =>
        `  - name: j${i}\n    type: runSh\n    steps:\n      - IN: other_repo\n      - TASK: { script: [make] }\n`,
    );
    await writeFile(join(many, "shippable.yml"), `jobs:\n${jobs.join("")}`);
    const run = await cli("validate", many);
    expect(run.out.match(/^error PIPELINE_UNKNOWN_REFERENCE/gm)).toHaveLength(1);
    expect(run.out).toContain(
      "  and 5 more (--json lists every one): shippable.yml:10:9, shippable.yml:15:9, shippable.yml:20:9 and 2 more",
    );
    expect(run.out).toMatch(/^ {2}PIPELINE_UNKNOWN_REFERENCE: 1 name in 6 places \(other_repo 6\)$/m);
    expect(run.out).toMatch(/^invalid: 1 file, 0 resources, 6 jobs, 6 edges; 6 errors, 0 warnings, 0 infos$/m);
    const { body } = await json("validate", many, "--json");
    const found = (body as { diagnostics: { subject?: string }[] }).diagnostics;
    expect(found.map((d) => d.subject)).toEqual(Array(6).fill("other_repo"));
  });
});

describe("errors of the environment", () => {
  it("a file that cannot be read is one line naming the failed call, exit 1, no stack", async () => {
    // /proc/self/mem is a file whose read fails (EIO), for root too.
    const run = await cli("validate", "/proc/self/mem");
    expect([run.code, run.out, run.err]).toEqual([1, "", "error: EIO: i/o error, read\n"]);
  });
});

describe("the causeway binary", () => {
  beforeAll(() => {
    // The binary runs the built CLI; build it once when this checkout has never been built.
    if (!existsSync(DIST_MAIN))
      execFileSync(process.execPath, [join(REPO, "node_modules/typescript/bin/tsc"), "-b"], { cwd: REPO });
  }, 180_000);

  const spawnCli = (...argv: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(process.execPath, [BIN, ...argv], { env: { ...process.env, NO_COLOR: "1" } }, (error, out, err) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, out, err });
      });
    });

  it("wires argv, streams and exit codes to the process", async () => {
    const [ok, bad, usage, json] = await Promise.all([
      spawnCli("validate", dir("warnings")),
      spawnCli("validate", dir("errors")),
      spawnCli("validate", dir("errors"), "--format", "yaml"),
      spawnCli("validate", dir("errors"), "--format", "json"),
    ]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^valid: /m);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("error PIPELINE_UNKNOWN_REFERENCE");
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/--format must be text or json/);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toMatchObject({ ok: false, summary: { resources: 1, jobs: 2, edges: 3 } });
  });
});

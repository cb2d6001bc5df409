import { describe, expect, it } from "vitest";
import {
  fileStatuses,
  loadFacts,
  loadPipeline,
  loadPipelineDirectory,
  planApply,
  REFUSING_CODES,
  type LoadResult,
} from "../src/index.js";
import { brief, codes, job, loadFiles, memoryFs, yaml } from "./helpers.js";

// A file that cannot be read as a whole is refused: none of its objects loads, and the result
// says which files were refused and why, so that an apply can keep what they defined.

const GOOD = yaml`
  resources:
    - name: cfg
      type: params
  jobs:
    - name: build
      type: runSh
      steps:
        - IN: cfg
        - TASK:
            script: [make]
`;

const OTHER = yaml`
  jobs:
    - name: deploy
      type: runSh
      steps:
        - IN: build
        - TASK:
            script: [./deploy]
`;

/** Nine anchors of nine aliases each: 9^9 nodes once expanded. */
const BOMB = [
  `a: &a [${Array.from({ length: 9 }, () => '"lol"').join(", ")}]`,
  ..."bcdefghi"
    .split("")
    .map((c, i) => `${c}: &${c} [${Array.from({ length: 9 }, () => `*${"abcdefghi"[i] ?? "a"}`).join(", ")}]`),
  "jobs:",
  "  - name: boom",
  "    type: runSh",
  "    steps:",
  "      - TASK:",
  "          script: *i",
  "",
].join("\n");

const names = (result: LoadResult): string[] =>
  [...result.pipeline.resources, ...result.pipeline.jobs].map((d) => d.name).sort();
const refusedPaths = (result: LoadResult): [string, string][] => result.refused.map((r) => [r.path, r.reason.code]);

describe("a file that cannot be read as a whole is refused", () => {
  it.each([
    ["an unclosed flow sequence", "jobs: [\n"],
    ["a bad indentation", "jobs:\n  - name: a\n   type: runSh\n"],
    ["a second document that does not parse", `${OTHER}---\njobs: [\n`],
  ])("%s: the file is refused, its objects are not loaded, the other files are", (_what, text) => {
    const result = loadFiles({ "a.causeway.yml": GOOD, "b.causeway.yml": text });
    expect(refusedPaths(result)).toEqual([["b.causeway.yml", "PIPELINE_YAML_SYNTAX"]]);
    expect(result.refused[0]?.reason).toMatchObject({ file: "b.causeway.yml", severity: "error" });
    expect(result.diagnostics).toContainEqual(result.refused[0]?.reason);
    expect(names(result)).toEqual(["build", "cfg"]);
    expect(result.files).toEqual(["a.causeway.yml", "b.causeway.yml"]);
    expect(result.ok).toBe(false);
  });

  it("an alias bomb refuses its file", () => {
    const result = loadFiles({ "a.causeway.yml": GOOD, "bomb.causeway.yml": BOMB });
    expect(refusedPaths(result)).toEqual([["bomb.causeway.yml", "PIPELINE_YAML_ALIAS_LIMIT"]]);
    expect(names(result)).toEqual(["build", "cfg"]);
  });

  it("a file over the size cap is refused, not read, and not listed among the files read", () => {
    const result = loadFiles(
      { "a.causeway.yml": GOOD, "big.causeway.yml": `${OTHER}${"#".repeat(300)}\n` },
      { maxFileBytes: 250 },
    );
    expect(refusedPaths(result)).toEqual([["big.causeway.yml", "PIPELINE_FILE_TOO_LARGE"]]);
    expect(result.files).toEqual(["a.causeway.yml"]);
    expect(names(result)).toEqual(["build", "cfg"]);
  });

  it("past the directory cap, every file not read is refused and named, in later sub-directories too", async () => {
    const fs = memoryFs({
      "a/shippable.yml": GOOD,
      "b/shippable.yml": OTHER,
      "c/d/shippable.yml": "jobs: []\n",
      "c/e.causeway.yml": "jobs: []\n",
    });
    const reads: string[] = [];
    const result = await loadPipelineDirectory(
      { list: (d) => fs.list(d), read: (p) => (reads.push(p), fs.read(p)) },
      { maxTotalBytes: GOOD.length + 10 },
    );
    expect(reads).toEqual(["a/shippable.yml"]);
    expect(refusedPaths(result)).toEqual([
      ["b/shippable.yml", "PIPELINE_DIR_TOO_LARGE"],
      ["c/d/shippable.yml", "PIPELINE_DIR_TOO_LARGE"],
      ["c/e.causeway.yml", "PIPELINE_DIR_TOO_LARGE"],
    ]);
    expect(codes(result).filter((c) => c === "PIPELINE_DIR_TOO_LARGE")).toHaveLength(3);
  });

  it("a file that cannot be read is refused; the others load", async () => {
    const fs = memoryFs({ "a.causeway.yml": GOOD, "b.causeway.yml": OTHER });
    const result = await loadPipelineDirectory({
      list: (d) => fs.list(d),
      read: (p) => (p === "b.causeway.yml" ? Promise.reject(new Error("EACCES: permission denied")) : fs.read(p)),
    });
    expect(refusedPaths(result)).toEqual([["b.causeway.yml", "PIPELINE_FILE_UNREADABLE"]]);
    expect(result.refused[0]?.reason.message).toContain("EACCES");
    expect(names(result)).toEqual(["build", "cfg"]);
  });

  it("a refused templates file refuses the files read with it, and only those", () => {
    const uses = "jobs:\n  - name: a\n    type: runSh\n    steps:\n      - TASK:\n          script: *tpl\n";
    const result = loadFiles({
      "app/shippable.templates.yml": "tpl: &tpl [echo hi\n",
      "app/shippable.yml": uses,
      "app/sub/shippable.yml": uses.replace("name: a", "name: b"),
      "other/shippable.yml": GOOD,
    });
    expect(refusedPaths(result)).toEqual([
      ["app/shippable.templates.yml", "PIPELINE_YAML_SYNTAX"],
      ["app/shippable.yml", "PIPELINE_TEMPLATES_REFUSED"],
      ["app/sub/shippable.yml", "PIPELINE_TEMPLATES_REFUSED"],
    ]);
    expect(result.refused[1]?.reason.message).toContain("app/shippable.templates.yml");
    expect(names(result)).toEqual(["build", "cfg"]);
  });

  it("a templates file over the cap, never read, refuses the files that need it", async () => {
    const result = await loadPipelineDirectory(
      memoryFs({
        "shippable.templates.yml": `tpl: &tpl [echo hi]\n${"#".repeat(400)}\n`,
        "shippable.yml": "jobs:\n  - name: a\n    type: runSh\n    steps:\n      - TASK:\n          script: *tpl\n",
      }),
      { maxFileBytes: 300 },
    );
    expect(refusedPaths(result)).toEqual([
      ["shippable.templates.yml", "PIPELINE_FILE_TOO_LARGE"],
      ["shippable.yml", "PIPELINE_TEMPLATES_REFUSED"],
    ]);
  });

  it.each([
    ["a schema error", "jobs:\n  - name: a\n    type: runSh\n    priority: high\n"],
    ["an unknown reference", "jobs:\n  - name: a\n    type: runSh\n    steps:\n      - IN: nowhere\n"],
    ["an unknown alias", "jobs:\n  - name: a\n    type: runSh\n    steps:\n      - TASK:\n          script: *x\n"],
  ])("%s does not refuse the file: its object loads as inconsistent", (_what, text) => {
    const result = loadFiles({ "b.causeway.yml": text });
    expect(result.refused).toEqual([]);
    expect(job(result, "a").consistent).toBe(false);
  });

  it("a duplicate key does not refuse the file: the last value is kept", () => {
    const result = loadFiles({ "b.causeway.yml": "jobs:\n  - name: a\n    type: runSh\n    type: release\n" });
    expect(result.refused).toEqual([]);
    expect(job(result, "a").type).toBe("release");
  });

  it("an empty file is read and defines nothing: it is not refused", () => {
    const result = loadFiles({ "a.causeway.yml": GOOD, "b.causeway.yml": "" });
    expect(result.refused).toEqual([]);
    expect(result.files).toEqual(["a.causeway.yml", "b.causeway.yml"]);
  });

  it("only the codes of REFUSING_CODES refuse", () => {
    const result = loadFiles({ "a.causeway.yml": "jobs: [\n", "b.causeway.yml": BOMB });
    for (const r of result.refused) expect(REFUSING_CODES).toContain(r.reason.code);
  });
});

describe("the objects of the line as applied (an apply's load)", () => {
  //   cfg ──> build (a.causeway.yml, refused now) ──> deploy (b.causeway.yml)
  const applied = new Map([
    ["cfg", "a.causeway.yml"],
    ["build", "a.causeway.yml"],
    ["deploy", "b.causeway.yml"],
  ]);

  it("a reference to an object of a refused file resolves: the referring job stays consistent", () => {
    const files = { "a.causeway.yml": "jobs: [\n", "b.causeway.yml": OTHER };
    expect(job(loadFiles(files), "deploy").consistent).toBe(false);
    const result = loadFiles(files, { applied });
    expect(job(result, "deploy").consistent).toBe(true);
    expect(codes(result)).toEqual(["PIPELINE_YAML_SYNTAX"]);
  });

  it("the name of a kept object defined in a file that loaded is a duplicate, and is not loaded", () => {
    // build moved to b.causeway.yml while a.causeway.yml is broken (or is defined twice: unknown yet).
    const moved = OTHER.replace("jobs:\n", "jobs:\n  - name: build\n    type: runSh\n");
    const result = loadFiles({ "a.causeway.yml": "jobs: [\n", "b.causeway.yml": moved }, { applied });
    expect(result.diagnostics.map(brief)).toContainEqual(
      expect.objectContaining({ code: "PIPELINE_DUPLICATE_NAME", file: "b.causeway.yml", line: 2 }),
    );
    expect(names(result)).toEqual(["deploy"]);
    expect(job(result, "deploy").consistent).toBe(true);
  });

  it("changes nothing when no file is refused", () => {
    const files = { "a.causeway.yml": GOOD, "b.causeway.yml": OTHER };
    expect(loadFiles(files, { applied })).toEqual(loadFiles(files));
  });
});

describe("file statuses and what an apply records", () => {
  it("lists every file, read or refused, with its status and reason", () => {
    const result = loadPipeline(
      [
        { path: "b.causeway.yml", text: "jobs: [\n" },
        { path: "a.causeway.yml", text: GOOD },
      ],
      { maxFileBytes: 1000 },
      [
        {
          path: "c.causeway.yml",
          reason: {
            code: "PIPELINE_FILE_TOO_LARGE",
            severity: "error",
            file: "c.causeway.yml",
            line: 1,
            col: 1,
            endLine: 1,
            endCol: 1,
            path: "",
            message: "too large",
          },
        },
      ],
    );
    expect(fileStatuses(result).map((f) => [f.path, f.status, f.reason?.code])).toEqual([
      ["a.causeway.yml", "loaded", undefined],
      ["b.causeway.yml", "refused", "PIPELINE_YAML_SYNTAX"],
      ["c.causeway.yml", "refused", "PIPELINE_FILE_TOO_LARGE"],
    ]);
    const facts = loadFacts(result);
    expect(facts.files[1]).toEqual({
      path: "b.causeway.yml",
      status: "refused",
      reason: expect.objectContaining({ code: "PIPELINE_YAML_SYNTAX", file: "b.causeway.yml", line: 2 }) as unknown,
    });
    expect(facts).toMatchObject({ errors: 2, warnings: 0 });
    expect(facts.problems.map((p) => p.code)).toEqual(["PIPELINE_YAML_SYNTAX", "PIPELINE_FILE_TOO_LARGE"]);
  });
});

describe("planApply: what an apply keeps and removes", () => {
  // a.yml: cfg, build      b.yml: deploy      c.yml: smoke (the file is gone)
  const applied = new Map<string, string | undefined>([
    ["cfg", "a.yml"],
    ["build", "a.yml"],
    ["deploy", "b.yml"],
    ["smoke", "c.yml"],
    ["legacy", undefined],
  ]);
  const pipeline = (...defined: string[]) => ({
    resources: defined.map((name) => ({ name })) as never[],
    jobs: [] as never[],
  });

  it.each([
    [
      "a file that loads and no longer defines an object removes it",
      ["cfg", "deploy"],
      [],
      [],
      ["build", "legacy", "smoke"],
    ],
    ["a refused file keeps every object it defined", ["deploy"], ["a.yml"], ["build", "cfg"], ["legacy", "smoke"]],
    [
      "a kept object stays kept even when a loaded file names it",
      ["build", "deploy"],
      ["a.yml"],
      ["build", "cfg"],
      ["legacy", "smoke"],
    ],
    [
      "every file refused keeps every object whose file is known",
      [],
      ["a.yml", "b.yml", "c.yml"],
      ["build", "cfg", "deploy", "smoke"],
      ["legacy"],
    ],
  ] as const)("%s", (_what, defined, refused, kept, removed) => {
    expect(planApply(applied, pipeline(...defined), new Set(refused))).toEqual({ kept, removed });
  });
});

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { generateLine } from "../bench/src/generate-line.js";
import { corpusFiles, expectExternalCorpus, FIXTURE_CORPUS, SKIP_EXTERNAL } from "../packages/core/test/corpora.js";
import { buildSchemaJson, SCHEMA_PATH } from "./generate-schema.js";

const REPO = fileURLToPath(new URL("../", import.meta.url));

type Node = Readonly<Record<string, unknown>>;
const schema = JSON.parse(buildSchemaJson()) as Node;

// Walks down the schema by keys and indexes; throws where there is nothing.
function at(node: unknown, ...keys: (string | number)[]): Node {
  let here = node;
  for (const key of keys) {
    if (here === null || typeof here !== "object") throw new Error(`no ${String(key)} in the schema`);
    here = (here as Record<string | number, unknown>)[key];
  }
  if (here === null || typeof here !== "object") throw new Error(`no schema at ${keys.join(".")}`);
  return here as Node;
}

// Follows a local `$ref` (the only kind the schema has) to its definition.
function deref(node: Node): Node {
  const ref = node.$ref;
  if (typeof ref !== "string") return node;
  const name = /^#\/definitions\/(.+)$/.exec(ref)?.[1];
  if (name === undefined) throw new Error(`not a local $ref: ${ref}`);
  return deref(at(schema, "definitions", name));
}

function refsIn(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(refsIn);
  if (node === null || typeof node !== "object") return [];
  return Object.entries(node).flatMap(([k, v]) => (k === "$ref" && typeof v === "string" ? [v] : refsIn(v)));
}

// strict: no unknown keyword, no ambiguity; union types (["string", "number"]) are plain draft-07.
const newValidator = (): ValidateFunction =>
  new Ajv({ strict: true, allowUnionTypes: true, allErrors: true }).compile(schema);
let shared: ValidateFunction | undefined;
const compile = (): ValidateFunction => (shared ??= newValidator());

describe(SCHEMA_PATH, () => {
  it("is the committed file: run npm run schema when this fails", async () => {
    const committed = await readFile(join(REPO, SCHEMA_PATH), "utf8");
    expect(committed === buildSchemaJson(), `${SCHEMA_PATH} is stale: run npm run schema`).toBe(true);
  });

  it("is deterministic, 2-space JSON with a trailing newline", () => {
    const text = buildSchemaJson();
    expect(buildSchemaJson()).toBe(text);
    expect(text).toBe(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
  });

  it("is a draft-07 schema with an id, a title and a description", () => {
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema).toMatchObject({ $id: expect.any(String), title: expect.any(String), type: "object" });
    expect(schema.description).toMatch(/assembly-line file/);
    expect(Object.keys(at(schema, "properties"))).toEqual(["resources", "jobs", "triggers"]);
  });

  it("describes the language: a job's dependencyMode is chrono, immediate or strict", () => {
    const job = deref(at(schema, "properties", "jobs", "anyOf", 0, "items"));
    expect(at(job, "properties", "dependencyMode").enum).toEqual(["chrono", "immediate", "strict"]);
    expect(job.required).toEqual(["name", "type"]);
    expect(job.additionalProperties).toBe(false);
    const inStep = deref(at(deref(at(job, "properties", "steps", "items")), "anyOf", 0));
    expect(Object.keys(at(inStep, "properties"))).toEqual(expect.arrayContaining(["IN", "switch", "dependencyMode"]));
  });

  it("names every definition, and the recursive script item refers to itself", () => {
    const names = Object.keys(at(schema, "definitions"));
    expect(names).toContain("scriptItem");
    expect(names.filter((n) => n.startsWith("__"))).toEqual([]);
    expect(refsIn(at(schema, "definitions", "scriptItem"))).toEqual(["#/definitions/scriptItem"]);
    for (const ref of refsIn(schema)) expect(() => deref({ $ref: ref })).not.toThrow();
  });

  it("compiles in ajv's strict mode", () => {
    expect(newValidator).not.toThrow();
  });

  it.each([
    { what: "an unknown key on a job", yaml: "jobs:\n  - name: a\n    type: runSh\n    stepz: []\n", at: "/jobs/0" },
    {
      what: "a dependencyMode outside the enum",
      yaml: "jobs:\n  - {name: a, type: runSh, dependencyMode: soon}\n",
      at: "/jobs/0/dependencyMode",
    },
    { what: "a job without a type", yaml: "jobs:\n  - name: a\n", at: "/jobs/0" },
    {
      what: "a mapping inside a nested script list",
      yaml: "jobs:\n  - name: a\n    type: runSh\n    steps:\n      - TASK:\n          script: [echo, [echo, {a: 1}]]\n",
      at: "/jobs/0/steps/0/TASK/script/1/1",
    },
  ])("rejects $what", ({ yaml, at }) => {
    const validate = compile();
    expect(validate(parse(yaml))).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toContain(at);
  });

  it("accepts a realistic line: the benchmark's generated files", () => {
    const validate = compile();
    for (const file of generateLine({ jobs: 300, resources: 300, files: 3 }).files) {
      expect(validate(parse(file.text)), `${file.path}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it("accepts both syntaxes of TASK and hooks, nested script lists and the Causeway extensions", () => {
    const validate = compile();
    const yaml = `resources:
  - name: repo
    type: gitRepo
    integration: gh
    pointer: {sourceName: a/b, branch: main}
jobs:
  - name: build
    type: runSh
    steps:
      - IN: repo
        switch: off
      - TASK:
          script: [echo 1, [echo 2, [echo 3]]]
      - TASK:
          - script: echo legacy
    on_success: {script: echo ok}
    on_failure:
      - script: echo bad
      - NOTIFY: slack
    requiresApproval: {approvers: [ops], minApprovals: 1}
    retries: {max: 2, on: [lost]}
    params: {TARGET: {type: choice, choices: [a, b]}}
`;
    expect(validate(parse(yaml)), JSON.stringify(validate.errors)).toBe(true);
  });

  // The editor must not flag what users write. Every file of a corpus that parses on its own
  // (files using a templates file's anchors do not) is checked; the rejected ones are listed for
  // review.
  async function validateCorpus(dir: string): Promise<Record<string, unknown>> {
    const validate = compile();
    const files = corpusFiles(dir);
    const rejected: Record<string, string> = {};
    let accepted = 0;
    let standalone = 0;
    for (const file of files) {
      let doc: unknown;
      try {
        doc = parse(await readFile(join(dir, file), "utf8"), { merge: true });
        standalone++;
      } catch {
        continue;
      }
      if (validate(doc ?? {})) accepted++;
      else {
        const e = validate.errors?.[0];
        rejected[file] = `${e?.instancePath ?? ""} ${e?.message ?? ""}`;
      }
    }
    return { files: files.length, standalone, accepted, rejected };
  }

  it("accepts the repository's corpus, but for the files listed", async () => {
    expect(await validateCorpus(FIXTURE_CORPUS)).toMatchInlineSnapshot(`
      {
        "accepted": 11,
        "files": 17,
        "rejected": {},
        "standalone": 11,
      }
    `);
  });

  it.skipIf(SKIP_EXTERNAL)("accepts the real corpus, but for the files listed", async () => {
    expect(await validateCorpus(expectExternalCorpus())).toMatchInlineSnapshot(`
      {
        "accepted": 85,
        "files": 90,
        "rejected": {},
        "standalone": 85,
      }
    `);
  });
});

import { describe, expect, it } from "vitest";
import { diffLine, type AppliedObject, type Mapping } from "../src/index.js";
import { loadFiles, yaml } from "./helpers.js";

// What an apply does to the line as applied: the one decision behind `causeway plan` and
// `Engine.apply`. Each case applies line A, then diffs line B against it.
//
//   a.causeway.yml: cfg (params) ──IN──► build ──► deploy (b.causeway.yml)

const CFG = (value: string) => yaml`
  resources:
    - name: cfg
      type: params
      version:
        params:
          TARGET: ${value}
  jobs:
    - name: build
      type: runSh
      steps:
        - IN: cfg
        - TASK:
            script: [make]
`;

const DEPLOY = (input: string) => yaml`
  jobs:
    - name: deploy
      type: runSh
      steps:
        - IN: ${input}
        - TASK:
            script: [./deploy]
`;

type Files = Record<string, string>;

/** The line as applied after loading `files`: every object, as stored. */
function applied(files: Files, deleted: readonly string[] = []): Map<string, AppliedObject> {
  const { pipeline } = loadFiles(files);
  const out = new Map<string, AppliedObject>();
  for (const def of [...pipeline.resources, ...pipeline.jobs])
    out.set(def.name, {
      definition: JSON.parse(JSON.stringify(def)) as Mapping,
      consistent: def.consistent,
      deleted: deleted.includes(def.name),
    });
  return out;
}

const LINE: Files = { "a.causeway.yml": CFG("staging"), "b.causeway.yml": DEPLOY("build") };

describe("diffLine: what an apply would do", () => {
  it.each([
    [
      "the same line again: nothing changes",
      LINE,
      { added: [], changed: [], removed: [], kept: [], versioned: [], invalid: [] },
    ],
    [
      "an edited params resource is changed and gets a version from its definition",
      { ...LINE, "a.causeway.yml": CFG("production") },
      { added: [], changed: ["cfg"], removed: [], kept: [], versioned: ["cfg"], invalid: [] },
    ],
    [
      "a file gone removes its objects, and a job referring to one becomes newly invalid",
      { "b.causeway.yml": DEPLOY("build") },
      { added: [], changed: ["deploy"], removed: ["build", "cfg"], kept: [], versioned: [], invalid: ["deploy"] },
    ],
    [
      "a refused file keeps its objects as they were",
      { "a.causeway.yml": "resources: [\n", "b.causeway.yml": DEPLOY("build") },
      { added: [], changed: [], removed: [], kept: ["build", "cfg"], versioned: [], invalid: [] },
    ],
    [
      "a new file adds its objects; a new object with an error is newly invalid",
      { ...LINE, "c.causeway.yml": DEPLOY("nowhere").replace("deploy", "smoke") },
      { added: ["smoke"], changed: [], removed: [], kept: [], versioned: [], invalid: ["smoke"] },
    ],
  ] as const)("%s", (_what, next, expected) => {
    // As an apply loads: the objects of the line as applied, with their files, so that a
    // reference to an object kept for a refused file resolves.
    const before = applied(LINE);
    const files = new Map([...before].map(([name, o]) => [name, (o.definition.origin as Mapping).file as string]));
    const load = loadFiles(next, { applied: files });
    const refused = new Set(load.refused.map((r) => r.path));
    expect(diffLine(before, load.pipeline, refused, () => true)).toEqual(expected);
  });

  it("a changed resource with no version yet gets one, even when its template is the same", () => {
    const flagged = loadFiles({
      ...LINE,
      "a.causeway.yml": CFG("staging").replace("type: params", "type: params\n    flags: [x]"),
    });
    expect(diffLine(applied(LINE), flagged.pipeline, new Set(), () => true)).toMatchObject({
      changed: ["cfg"],
      versioned: [],
    });
    expect(diffLine(applied(LINE), flagged.pipeline, new Set(), () => false)).toMatchObject({
      changed: ["cfg"],
      versioned: ["cfg"],
    });
  });

  it("a removed object defined again is added; versioned only when its template changed", () => {
    const same = diffLine(applied(LINE, ["cfg"]), loadFiles(LINE).pipeline, new Set(), () => true);
    expect(same).toMatchObject({ added: ["cfg"], changed: [], removed: [], versioned: [] });
    const other = loadFiles({ ...LINE, "a.causeway.yml": CFG("production") }).pipeline;
    expect(diffLine(applied(LINE, ["cfg"]), other, new Set(), () => true)).toMatchObject({
      added: ["cfg"],
      versioned: ["cfg"],
    });
  });

  it("an object already invalid is not newly invalid", () => {
    const broken: Files = { ...LINE, "b.causeway.yml": DEPLOY("nowhere") };
    const diff = diffLine(applied(broken), loadFiles(broken).pipeline, new Set(), () => true);
    expect(diff.invalid).toEqual([]);
  });
});

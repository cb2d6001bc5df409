import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { HOOK_NAMES, JOB_TYPES, RESOURCE_TYPES, SPLIT_FILE_NAMES, TEMPLATES_FILE_NAME } from "../src/index.js";
import { corpusFolders, expectExternalCorpus, FIXTURE_CORPUS, loadFolder, SKIP_EXTERNAL } from "./corpora.js";
import { featuresOf } from "./corpus-features.js";

// A plain clone has only the repository's own corpus, so that corpus must exercise every
// language feature the external corpus of real files does. Both are measured the same way,
// from the loaded model (and, for the forms of TASK and hooks, from the YAML), so coverage
// cannot rot unnoticed: a feature dropped from the fixtures, a type added to the language or a
// feature found in the real files fails here.

/** Every feature of a corpus, with the lines that use it. */
async function corpusFeatures(dir: string | undefined): Promise<Map<string, string[]>> {
  const features = new Map<string, string[]>();
  for (const folder of corpusFolders(dir)) {
    if (dir === undefined) break;
    const result = await loadFolder(dir, folder);
    for (const f of await featuresOf(join(dir, folder), result)) features.set(f, [...(features.get(f) ?? []), folder]);
  }
  return features;
}

/** What the repository's corpus must show whatever the external corpus holds. */
const REQUIRED: readonly string[] = [
  // Files: split files, templates, both name forms, sub-directories.
  "file: shippable.yml",
  "file: *shippable.yml",
  "file: *causeway.yml",
  ...SPLIT_FILE_NAMES.map((name) => `file: ${name}`),
  `file: ${TEMPLATES_FILE_NAME}`,
  "file: in a sub-directory",
  "YAML: anchor",
  "YAML: alias",
  "YAML: merge key",
  "templates: a key redefined by a file",
  // Every type the language knows, and an unknown one of each kind.
  ...RESOURCE_TYPES.map((type) => `resource type: ${type}`),
  "resource type: unknown",
  ...JOB_TYPES.map((type) => `job type: ${type}`),
  "job type: unknown",
  // Both resource syntaxes, and the legacy triggers list.
  "resource syntax: versionTemplate",
  "resource syntax: legacy",
  "resource: in a legacy triggers list",
  "resource: flags",
  "job: flags",
  // Both forms of TASK and of hooks; every hook with a script and a NOTIFY.
  "TASK: mapping form",
  "TASK: list form",
  "TASK: managed",
  "hook: mapping form",
  "hook: list form",
  ...HOOK_NAMES.flatMap((hook) => [`hook ${hook}: script`, `hook ${hook}: NOTIFY`]),
  // IN and OUT options.
  "IN: switch off",
  "IN: versionName",
  "IN: versionNumber",
  "IN: dependencyMode",
  "IN: a job",
  "OUT: replicate",
  "OUT: overwrite",
  "OUT: on_failure",
  // The Causeway extensions.
  "job: requiresApproval",
  "job: retries",
  "job: concurrencyGroup",
  "job: coalesce",
  "job: params",
  // What real files hold that Causeway reports, and the usual mistakes.
  "diagnostic: PIPELINE_CI_KEY_IGNORED",
  "diagnostic: PIPELINE_IGNORED_KEY",
  "diagnostic: PIPELINE_DEPRECATED",
  "diagnostic: PIPELINE_ORPHAN_RESOURCE",
  "diagnostic: PIPELINE_PROVIDER_TYPE",
  "diagnostic: PIPELINE_UNKNOWN_RESOURCE_TYPE",
  "diagnostic: PIPELINE_UNSUPPORTED_JOB_TYPE",
  "diagnostic: PIPELINE_UNKNOWN_REFERENCE",
  "reference: unknown",
  "reference: implicit <repo>_runCI",
  "reference: implicit <repo>_ciRepo",
  "diagnostic: PIPELINE_YAML_DUPLICATE_KEY",
  "diagnostic: PIPELINE_DUPLICATE_NAME",
  "diagnostic: PIPELINE_YAML_SYNTAX",
  "diagnostic: PIPELINE_YAML_UNKNOWN_ALIAS",
  "diagnostic: PIPELINE_CYCLE",
  "diagnostic: PIPELINE_IN_AND_OUT",
];

let fixture = new Map<string, string[]>();

beforeAll(async () => {
  fixture = await corpusFeatures(FIXTURE_CORPUS);
});

describe("the repository's corpus covers the language", () => {
  it("uses every type of the language's lists and every feature the issue names", () => {
    expect(REQUIRED.filter((feature) => !fixture.has(feature))).toEqual([]);
  });

  it.skipIf(SKIP_EXTERNAL)("uses every feature the external corpus uses", async () => {
    const external = await corpusFeatures(expectExternalCorpus());
    expect(external.size).toBeGreaterThan(50);
    const missing = [...external].filter(([feature]) => !fixture.has(feature));
    expect(Object.fromEntries(missing.map(([feature, folders]) => [feature, folders.slice(0, 3)]))).toEqual({});
  });

  it("sees the features it looks for (the measure itself is not blind)", () => {
    // Each of these is in the fixtures: if the measure stopped seeing one, both comparisons
    // above would pass for the wrong reason.
    for (const [feature, folder] of [
      ["TASK: list form", "nightly-reports"],
      ["TASK: mapping form", "ledger-api"],
      ["hook: list form", "image-factory"],
      ["hook: mapping form", "ledger-api"],
      ["YAML: merge key", "image-factory"],
      ["resource: in a legacy triggers list", "ledger-api"],
    ] as const) {
      expect(fixture.get(feature), feature).toContain(folder);
    }
  });
});

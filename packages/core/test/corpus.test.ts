import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  buildGraph,
  DIAGNOSTIC_CODES,
  templatesFor,
  type Diagnostic,
  topologicalOrder,
  type DiagnosticCode,
  type Graph,
  type LoadResult,
} from "../src/index.js";
import {
  corpusFolders,
  EXTERNAL_DIR,
  expectExternalCorpus,
  FIXTURE_CORPUS,
  loadFolder,
  SKIP_EXTERNAL,
} from "./corpora.js";

// The compatibility target of design §2, in two corpora of lines, one folder per line: the
// repository's own (packages/core/test/fixtures/corpus, written for it, in every clone) and the
// external corpus of real assembly lines (shared/, beside the repository, or CAUSEWAY_CORPUS;
// skipped with a reason on a plain clone, mandatory in CI). corpus-coverage.test.ts checks that
// the first uses every feature the second does.

const FIXTURE_FOLDERS = corpusFolders(FIXTURE_CORPUS);
const EXTERNAL_FOLDERS = corpusFolders(EXTERNAL_DIR);

// Codes about content that is specific to Shippable's providers or CI: never errors.
const PROVIDER_CODES: readonly DiagnosticCode[] = [
  "PIPELINE_PROVIDER_TYPE",
  "PIPELINE_UNSUPPORTED_JOB_TYPE",
  "PIPELINE_UNKNOWN_RESOURCE_TYPE",
  "PIPELINE_CI_KEY_IGNORED",
  "PIPELINE_IGNORED_KEY",
  "PIPELINE_DEPRECATED",
];

interface Loaded {
  readonly result: LoadResult;
  readonly graph: Graph;
}

class Corpus {
  readonly #loaded = new Map<string, Loaded>();

  constructor(
    readonly dir: string | undefined,
    readonly folders: readonly string[],
  ) {}

  async load(): Promise<void> {
    if (this.dir === undefined) return;
    for (const folder of this.folders) {
      const result = await loadFolder(this.dir, folder);
      this.#loaded.set(folder, { result, graph: buildGraph(result.pipeline) });
    }
  }

  get(folder: string): Loaded {
    if (this.dir === undefined) expectExternalCorpus();
    const l = this.#loaded.get(folder);
    if (l === undefined) throw new Error(`${folder} was not loaded`);
    return l;
  }

  /** Every diagnostic of the corpus, with the line it belongs to. */
  diagnostics(): { readonly folder: string; readonly d: Diagnostic; readonly files: readonly string[] }[] {
    if (this.dir === undefined) expectExternalCorpus();
    return this.folders.flatMap((folder) => {
      const { result } = this.get(folder);
      return result.diagnostics.map((d) => ({ folder, d, files: result.files }));
    });
  }
}

const fixture = new Corpus(FIXTURE_CORPUS, FIXTURE_FOLDERS);
const external = new Corpus(EXTERNAL_DIR, EXTERNAL_FOLDERS);

beforeAll(async () => {
  await fixture.load();
  await external.load();
}, 60_000);

/**
 * What must hold for every line of either corpus; `alsoPerLine` adds tests of each line. The
 * diagnostics are checked across the corpus, so that a check never passes on a line with none.
 */
function checkLines(corpus: Corpus, alsoPerLine: (folder: string) => void = () => undefined): void {
  describe.each(corpus.folders)("%s", (folder) => {
    it("loads into a graph", () => {
      const { result, graph } = corpus.get(folder);
      expect(result.files.length).toBeGreaterThan(0);
      expect(graph.nodes.length).toBe(result.summary.resources + result.summary.jobs);
      expect(new Set(graph.nodes.map((n) => n.name)).size).toBe(graph.nodes.length);
      expect(graph.edges.length).toBeLessThanOrEqual(result.summary.edges);
      const order = topologicalOrder(graph);
      expect(new Set(order).size).toBe(graph.nodes.length);
    });

    alsoPerLine(folder);
  });

  it("gives every diagnostic its catalog severity: provider-specific content is never an error", () => {
    const all = corpus.diagnostics();
    expect(all.length).toBeGreaterThan(0);
    for (const { folder, d } of all) {
      expect(d.severity, `${folder}: ${d.code}`).toBe(DIAGNOSTIC_CODES[d.code].severity);
      if (PROVIDER_CODES.includes(d.code)) expect(d.severity, `${folder}: ${d.code}`).not.toBe("error");
    }
  });

  it("places every diagnostic in a file its line read", () => {
    const all = corpus.diagnostics();
    expect(all.length).toBeGreaterThan(0);
    for (const { folder, d, files } of all) {
      expect(files, folder).toContain(d.file);
      expect(d.line, `${folder}: ${d.file}`).toBeGreaterThanOrEqual(1);
      expect(d.col, `${folder}: ${d.file}`).toBeGreaterThanOrEqual(1);
    }
  });
}

describe("the repository's corpus", () => {
  it("has its lines", () => {
    expect(FIXTURE_FOLDERS).toEqual(["image-factory", "ledger-api", "nightly-reports", "typical-mistakes"]);
  });

  checkLines(fixture);

  it("keeps its diagnostics and counts (review changes here)", () => {
    const lines: Record<string, unknown> = {};
    for (const folder of FIXTURE_FOLDERS) {
      const { result, graph } = fixture.get(folder);
      const objects = [...result.pipeline.resources, ...result.pipeline.jobs];
      lines[folder] = {
        files: result.files,
        resources: result.summary.resources,
        jobs: result.summary.jobs,
        edges: graph.edges.length,
        inconsistent: objects.filter((o) => !o.consistent).map((o) => o.name),
        diagnostics: result.diagnostics.map((d) =>
          `${d.severity} ${d.code} ${d.file}:${d.line}:${d.col} ${d.path}`.trim(),
        ),
      };
    }
    expect(lines).toMatchSnapshot();
  });
});

describe.skipIf(SKIP_EXTERNAL)("the Shippable corpus", () => {
  it("is found beside the repository", () => {
    expectExternalCorpus();
    expect(EXTERNAL_FOLDERS.length).toBeGreaterThanOrEqual(50);
  });

  checkLines(external, (folder) => {
    it("has no error but references to objects of other repositories", () => {
      const { result } = external.get(folder);
      // Real files parse and match the schema; their only errors are references to objects
      // of other repositories of a Shippable subscription.
      const errors = new Set(result.diagnostics.filter((d) => d.severity === "error").map((d) => d.code));
      expect([...errors].filter((c) => c !== "PIPELINE_UNKNOWN_REFERENCE")).toEqual([]);
    });
  });

  it("keeps its counts (review changes here)", () => {
    expectExternalCorpus();
    const summary: Record<string, unknown> = {};
    for (const folder of EXTERNAL_FOLDERS) {
      const { result, graph } = external.get(folder);
      const counts: Partial<Record<DiagnosticCode, number>> = {};
      for (const d of result.diagnostics) counts[d.code] = (counts[d.code] ?? 0) + 1;
      summary[folder] = {
        resources: graph.nodes.filter((n) => n.kind === "resource").length,
        jobs: graph.nodes.filter((n) => n.kind === "job").length,
        edges: graph.edges.length,
        codes: Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1))),
      };
    }
    expect(summary).toMatchSnapshot();
  });
});

describe.skipIf(SKIP_EXTERNAL)("Shippable__buildami", () => {
  const folder = "Shippable__buildami";
  const root = join(EXTERNAL_DIR ?? "", folder);

  // An independent look at the aliases: every `*name` token of a pipeline file whose anchor is
  // in neither that file nor the templates file that applies to it.
  async function unknownAliases(files: readonly string[]): Promise<string[]> {
    const templates = new Set(files.filter((f) => f.endsWith("shippable.templates.yml")));
    const anchorsOf = (text: string): Set<string> =>
      new Set([...text.matchAll(/&([A-Za-z0-9_-]+)/g)].map((m) => m[1] ?? ""));
    const out: string[] = [];
    for (const file of files) {
      if (templates.has(file)) continue;
      const text = await readFile(join(root, file), "utf8");
      const defined = anchorsOf(text);
      const tpl = templatesFor(file, templates);
      if (tpl !== undefined) for (const a of anchorsOf(await readFile(join(root, tpl), "utf8"))) defined.add(a);
      for (const m of text.matchAll(/(?:^|[\s[{,])\*([A-Za-z0-9_-]+)/g)) {
        if (!defined.has(m[1] ?? "")) out.push(`${file}: *${m[1]}`);
      }
    }
    return out.sort();
  }

  it("reports exactly the unknown aliases there are, at the alias", async () => {
    const { result } = external.get(folder);
    const reported = result.diagnostics.filter((d) => d.code === "PIPELINE_YAML_UNKNOWN_ALIAS");
    const names: string[] = [];
    for (const d of reported) {
      const line = (await readFile(join(root, d.file), "utf8")).split("\n")[d.line - 1] ?? "";
      const name = /^\*([A-Za-z0-9_-]+)/.exec(line.slice(d.col - 1))?.[1];
      expect(name, `${d.file}:${d.line}:${d.col} is not an alias`).toBeDefined();
      expect(d.message).toContain(name);
      names.push(`${d.file}: *${name}`);
    }
    expect(names.sort()).toEqual(await unknownAliases(result.files));
    // At the corpus commit every alias resolves, through the root shippable.templates.yml.
    expect(names).toEqual([]);
  });

  it("expands the templates into the jobs of sub-directories", () => {
    const { result } = external.get(folder);
    const build = result.pipeline.jobs.find((j) => j.name === "u16_aarch32_build");
    expect(build?.origin.file).toBe("images/aarch32/Ubuntu_16.04/shippable.yml");
    const script = build?.steps.flatMap((s) => (s.kind === "TASK" ? s.script : [])) ?? [];
    expect(script).toContain("RES_IMG=$IMG_OUT");
    expect(script.some((l) => l.includes("docker login"))).toBe(true);
    expect(build?.hooks.on_success.script.some((l) => l.includes("put_resource_state_multi"))).toBe(true);
  });
});

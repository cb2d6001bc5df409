import { existsSync, readdirSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import {
  buildGraph,
  DIAGNOSTIC_CODES,
  loadPipelineDirectory,
  templatesFor,
  topologicalOrder,
  type DiagnosticCode,
  type DirEntry,
  type Graph,
  type LoadResult,
  type PipelineFs,
} from "../src/index.js";

// The compatibility target of design §2: real assembly lines, one folder per repository. The
// corpus lives in shared/, beside the repository (CI clones the repository elsewhere with a
// copy of shared/ beside it), so it is found relative to the repository root.
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const CORPUS = resolve(REPO_ROOT, "../shared/corpus/shippable");

/** The loader's file access on the local disk, rooted at `root` (core itself has no I/O). */
function nodeFs(root: string): PipelineFs {
  return {
    async list(dir: string): Promise<DirEntry[]> {
      const entries = await readdir(join(root, dir), { withFileTypes: true });
      return Promise.all(
        entries.map(async (e): Promise<DirEntry> => {
          if (e.isDirectory()) return { name: e.name, kind: "directory", size: 0 };
          if (!e.isFile()) return { name: e.name, kind: "other", size: 0 };
          return { name: e.name, kind: "file", size: (await stat(join(root, dir, e.name))).size };
        }),
      );
    },
    read: (path: string) => readFile(join(root, path), "utf8"),
  };
}

const FOLDERS = existsSync(CORPUS)
  ? readdirSync(CORPUS, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort()
  : [];

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

const loaded = new Map<string, Loaded>();

beforeAll(async () => {
  for (const folder of FOLDERS) {
    const result = await loadPipelineDirectory(nodeFs(join(CORPUS, folder)));
    loaded.set(folder, { result, graph: buildGraph(result.pipeline) });
  }
}, 60_000);

function get(folder: string): Loaded {
  const l = loaded.get(folder);
  if (l === undefined) throw new Error(`${folder} was not loaded`);
  return l;
}

describe("the Shippable corpus", () => {
  it("is found beside the repository", () => {
    expect(existsSync(CORPUS), `no corpus at ${CORPUS}`).toBe(true);
    expect(FOLDERS.length).toBeGreaterThanOrEqual(50);
  });

  describe.each(FOLDERS)("%s", (folder) => {
    it("loads into a graph", () => {
      const { result, graph } = get(folder);
      expect(result.files.length).toBeGreaterThan(0);
      expect(graph.nodes.length).toBe(result.summary.resources + result.summary.jobs);
      expect(new Set(graph.nodes.map((n) => n.name)).size).toBe(graph.nodes.length);
      expect(graph.edges.length).toBeLessThanOrEqual(result.summary.edges);
      const order = topologicalOrder(graph);
      expect(new Set(order).size).toBe(graph.nodes.length);
    });

    it("reports provider-specific content as warnings or infos, and no error but references", () => {
      const { result } = get(folder);
      for (const d of result.diagnostics) {
        expect(d.severity).toBe(DIAGNOSTIC_CODES[d.code].severity);
        if (PROVIDER_CODES.includes(d.code)) expect(d.severity).not.toBe("error");
      }
      expect(result.diagnostics.find((d) => d.code === "PIPELINE_PROVIDER_TYPE")?.severity ?? "warning").toBe(
        "warning",
      );
      expect(result.diagnostics.find((d) => d.code === "PIPELINE_UNSUPPORTED_JOB_TYPE")?.severity ?? "warning").toBe(
        "warning",
      );
      // Real files parse and match the schema; their only errors are references to objects
      // of other repositories of a Shippable subscription.
      const errors = new Set(result.diagnostics.filter((d) => d.severity === "error").map((d) => d.code));
      expect([...errors].filter((c) => c !== "PIPELINE_UNKNOWN_REFERENCE")).toEqual([]);
    });

    it("places every diagnostic in a file it read", () => {
      const { result } = get(folder);
      for (const d of result.diagnostics) {
        expect(result.files).toContain(d.file);
        expect(d.line).toBeGreaterThanOrEqual(1);
        expect(d.col).toBeGreaterThanOrEqual(1);
      }
    });
  });

  it("keeps its counts (review changes here)", () => {
    const summary: Record<string, unknown> = {};
    for (const folder of FOLDERS) {
      const { result, graph } = get(folder);
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

describe("Shippable__buildami", () => {
  const folder = "Shippable__buildami";
  const root = join(CORPUS, folder);

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
    const { result } = get(folder);
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
    const { result } = get(folder);
    const build = result.pipeline.jobs.find((j) => j.name === "u16_aarch32_build");
    expect(build?.origin.file).toBe("images/aarch32/Ubuntu_16.04/shippable.yml");
    const script = build?.steps.flatMap((s) => (s.kind === "TASK" ? s.script : [])) ?? [];
    expect(script).toContain("RES_IMG=$IMG_OUT");
    expect(script.some((l) => l.includes("docker login"))).toBe(true);
    expect(build?.hooks.on_success.script.some((l) => l.includes("put_resource_state_multi"))).toBe(true);
  });
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  buildGraph,
  DIAGNOSTIC_CODES,
  loadPipeline,
  topologicalOrder,
  type DiagnosticCode,
  type LoadOptions,
  type SourceFile,
} from "../src/index.js";
import { corpusFiles, EXTERNAL_DIR, expectExternalCorpus, FIXTURE_CORPUS, SKIP_EXTERNAL } from "./corpora.js";

// A deterministic mutation fuzzer over the corpora: each case mutates one or two files of a
// corpus a few times and checks that the loader never throws and that every diagnostic is well
// formed and points into an input file. A failure prints the seed and case, which replay it
// exactly. The repository's own corpus is fuzzed in every clone; the external one where it is.

// Files up to this size keep a case in the millisecond range; the big generated buildami files
// add nothing that their smaller siblings do not have.
const MAX_SEED_BYTES = 12_000;

/** The files a corpus gives the fuzzer: pipeline files to mutate, and templates files. */
interface Pool {
  readonly seeds: readonly SourceFile[];
  readonly templates: readonly SourceFile[];
}

function poolOf(dir: string | undefined): Pool {
  const all = corpusFiles(dir).map((path) => ({ path, text: readFileSync(join(dir ?? "", path), "utf8") }));
  return {
    seeds: all.filter((f) => !f.path.endsWith("shippable.templates.yml") && f.text.length <= MAX_SEED_BYTES),
    templates: all.filter((f) => f.path.endsWith("shippable.templates.yml")),
  };
}

const FIXTURE_POOL = poolOf(FIXTURE_CORPUS);
const EXTERNAL_POOL = poolOf(EXTERNAL_DIR);

/** mulberry32: a small, fast, seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const KEYS = [
  "name",
  "type",
  "steps",
  "IN",
  "OUT",
  "TASK",
  "script",
  "switch",
  "versionTemplate",
  "pointer",
  "seed",
  "version",
  "replicate",
  "on_success",
  "on_failure",
  "always",
  "NOTIFY",
  "runtime",
  "options",
  "env",
  "integration",
  "flags",
  "priority",
  "dependencyMode",
  "requiresApproval",
  "retries",
  "params",
  "resources",
  "jobs",
  "triggers",
  "<<",
];
const SCALARS = [
  "~",
  "null",
  "true",
  "off",
  "0x1F",
  ".inf",
  "-1",
  "1e400",
  '"quoted: value"',
  "'single'",
  "|",
  ">-",
  "!!binary aGk=",
  "!custom tag",
  "!!str 12",
  "2001-12-14",
  "runSh",
  "state",
  "notification",
  "deploy",
  "managed",
  "my-app",
  "myapp",
  "",
];
const TOKENS = [
  ":",
  "- ",
  "{",
  "}",
  "[",
  "]",
  ",",
  "? ",
  "#",
  "|",
  ">",
  "\t",
  '"',
  "'",
  "!",
  "%",
  "@",
  "`",
  "\\",
  "---",
  "...",
];
const NASTY = ["\u0000", "\u0007", "\u001b", "\r", "\r\n", "\ufeff", "\u2028", "\ud800", "\udc00", "é", "😀", "\u00a0"];

type Mutation = (text: string, rng: Rng) => string;

const lines = (text: string): string[] => text.split("\n");
const anchorNames = (text: string): string[] => [...text.matchAll(/&([A-Za-z0-9_-]+)/g)].map((m) => m[1] ?? "x");
const insertAt = (text: string, at: number, s: string): string => text.slice(0, at) + s + text.slice(at);

const MUTATIONS: readonly Mutation[] = [
  // delete a line
  (t, r) => {
    const l = lines(t);
    l.splice(r.int(l.length), 1);
    return l.join("\n");
  },
  // duplicate a line (often a duplicate key)
  (t, r) => {
    const l = lines(t);
    const i = r.int(l.length);
    l.splice(i, 0, l[i] ?? "");
    return l.join("\n");
  },
  // swap two lines
  (t, r) => {
    const l = lines(t);
    const i = r.int(l.length);
    const j = r.int(l.length);
    [l[i], l[j]] = [l[j] ?? "", l[i] ?? ""];
    return l.join("\n");
  },
  // move a line's indentation
  (t, r) => {
    const l = lines(t);
    const i = r.int(l.length);
    const line = l[i] ?? "";
    l[i] = r.chance(0.5) ? " ".repeat(1 + r.int(4)) + line : line.replace(/^ {1,4}/, "");
    return l.join("\n");
  },
  // insert an alias, known or not
  (t, r) => {
    const names = anchorNames(t);
    const name = names.length > 0 && r.chance(0.6) ? r.pick(names) : r.pick(["x", "tpl", "common", "steps"]);
    return insertAt(t, r.int(t.length + 1), `*${name}`);
  },
  // replace a value by an alias
  (t, r) => {
    const l = lines(t);
    const i = r.int(l.length);
    const names = anchorNames(t);
    l[i] = (l[i] ?? "").replace(/:\s+\S.*$/, `: *${names.length > 0 ? r.pick(names) : "nope"}`);
    return l.join("\n");
  },
  // insert an anchor
  (t, r) => insertAt(t, r.int(t.length + 1), `&${r.pick(["a", "x", "tpl", "steps"])} `),
  // insert a structural token
  (t, r) => insertAt(t, r.int(t.length + 1), r.pick(TOKENS)),
  // insert odd characters
  (t, r) => insertAt(t, r.int(t.length + 1), r.pick(NASTY)),
  // random bytes
  (t, r) => {
    let s = "";
    for (let n = 1 + r.int(8); n > 0; n--) s += String.fromCharCode(r.int(r.chance(0.8) ? 128 : 0x10000));
    return insertAt(t, r.int(t.length + 1), s);
  },
  // truncate
  (t, r) => t.slice(0, r.int(t.length + 1)),
  // replace a scalar by a flow list or map, or a block list
  (t, r) => {
    const l = lines(t);
    const i = r.int(l.length);
    const line = l[i] ?? "";
    const indent = /^ */.exec(line)?.[0] ?? "";
    const replacement = r.pick([
      ": [a, b]",
      ": {a: 1}",
      ": []",
      ": {}",
      `:\n${indent}  - x\n${indent}  - y`,
      `:\n${indent}  k: v`,
    ]);
    l[i] = line.replace(/:\s+\S.*$/, replacement);
    return l.join("\n");
  },
  // replace a value by a YAML oddity
  (t, r) => {
    const l = lines(t);
    const i = r.int(l.length);
    l[i] = (l[i] ?? "").replace(/:\s+\S.*$/, `: ${r.pick(SCALARS)}`);
    return l.join("\n");
  },
  // rename a key
  (t, r) => {
    const l = lines(t);
    const i = r.int(l.length);
    l[i] = (l[i] ?? "").replace(/^(\s*(?:- )?)[A-Za-z_<]+:/, `$1${r.pick(KEYS)}:`);
    return l.join("\n");
  },
  // insert a merge key or a line of a known key
  (t, r) => {
    const l = lines(t);
    const i = r.int(l.length);
    const indent = /^ *(?:- )?/.exec(l[i] ?? "")?.[0].replace("- ", "  ") ?? "";
    const names = anchorNames(t);
    const line = r.chance(0.5)
      ? `${indent}<<: *${names.length > 0 ? r.pick(names) : "m"}`
      : `${indent}${r.pick(KEYS)}: ${r.pick(SCALARS)}`;
    l.splice(i, 0, line);
    return l.join("\n");
  },
  // a document marker, a directive or a document end
  (t, r) => {
    const l = lines(t);
    l.splice(r.int(l.length + 1), 0, r.pick(["---", "...", "%YAML 1.1", "--- !!map", "--- |"]));
    return l.join("\n");
  },
  // a self-referential or nested anchor
  (t, r) => {
    const l = lines(t);
    l.splice(
      r.int(l.length + 1),
      0,
      r.pick(["loop: &loop [*loop]", "a: &a [1, 2]", "b: &b [*a, *a, *a]", "m: &m {k: *m}"]),
    );
    return l.join("\n");
  },
  // CRLF line ends
  (t) => t.replace(/\n/g, "\r\n"),
];

const PATHS = ["shippable.yml", "shippable.jobs.yml", "a/b/shippable.resources.yml", "x.causeway.yml"];
const KNOWN_CODES = new Set(Object.keys(DIAGNOSTIC_CODES));
const SEVERITIES = new Set(["error", "warning", "info"]);

function mutate(text: string, rng: Rng): string {
  let out = text;
  for (let n = 1 + rng.int(rng.chance(0.2) ? 8 : 3); n > 0; n--) out = rng.pick(MUTATIONS)(out, rng);
  return out;
}

function makeCase(rng: Rng, pool: Pool): { files: SourceFile[]; options: LoadOptions } {
  const seed = rng.pick(pool.seeds);
  const files: SourceFile[] = [{ path: rng.pick(PATHS), text: mutate(seed.text, rng) }];
  if (rng.chance(0.2) && pool.templates.length > 0) {
    // A templates file, mutated or not, above the user file.
    const tpl = rng.pick(pool.templates);
    files.push({ path: "shippable.templates.yml", text: rng.chance(0.5) ? mutate(tpl.text, rng) : tpl.text });
  } else if (rng.chance(0.2)) {
    const other = rng.pick(pool.seeds);
    files.push({ path: "other/shippable.yml", text: rng.chance(0.5) ? mutate(other.text, rng) : other.text });
  }
  // Small alias caps keep alias-heavy mutations cheap and exercise the limit.
  const options: LoadOptions = { maxAliasNodes: rng.pick([50, 2_000, 20_000]) };
  return { files, options };
}

/** What the cases of a block led the loader to. */
interface Outcomes {
  /** Cases whose result had an error diagnostic. */
  rejected: number;
  /** Cases whose result had none: the mutations left a loadable line. */
  loaded: number;
  readonly codes: Set<DiagnosticCode>;
}

/** The first broken invariant of one case, or undefined; counts the case's outcome. */
function check(files: readonly SourceFile[], options: LoadOptions, outcomes: Outcomes): string | undefined {
  let result;
  try {
    result = loadPipeline(files, options);
  } catch (error) {
    return `loadPipeline threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  }
  if (!Array.isArray(result.diagnostics)) return "diagnostics is not an array";
  const byPath = new Map(files.map((f) => [f.path, f.text]));
  for (const d of result.diagnostics) {
    const where = JSON.stringify(d);
    if (!KNOWN_CODES.has(d.code)) return `unknown code: ${where}`;
    if (!SEVERITIES.has(d.severity)) return `bad severity: ${where}`;
    if (!Number.isInteger(d.line) || d.line < 1) return `bad line: ${where}`;
    if (!Number.isInteger(d.col) || d.col < 1) return `bad col: ${where}`;
    if (typeof d.path !== "string") return `bad path: ${where}`;
    const text = byPath.get(d.file);
    if (text === undefined) return `file is not an input: ${where}`;
    const fileLines = text.split("\n");
    if (d.line > fileLines.length) return `line past the end of ${d.file}: ${where}`;
    if (d.col > (fileLines[d.line - 1] ?? "").length + 1) return `col past the end of its line: ${where}`;
    outcomes.codes.add(d.code);
  }
  if (result.ok !== !result.diagnostics.some((d) => d.severity === "error")) return "ok disagrees with diagnostics";
  if (result.ok) outcomes.loaded++;
  else outcomes.rejected++;
  try {
    const graph = buildGraph(result.pipeline);
    const order = topologicalOrder(graph);
    if (order.length !== graph.nodes.length || new Set(order).size !== order.length)
      return `topological order does not list every node once: ${JSON.stringify(order)}`;
  } catch (error) {
    return `graph threw: ${String(error)}`;
  }
  return undefined;
}

// Codes that every block must reach: the mutations break the YAML, the shapes and the
// references in all the ways the loader reports. A block that reaches fewer has stopped
// exploring (mutations that no longer change anything, seeds that no longer load).
const REACHED: readonly DiagnosticCode[] = [
  "PIPELINE_YAML_SYNTAX",
  "PIPELINE_YAML_DUPLICATE_KEY",
  "PIPELINE_YAML_UNKNOWN_ALIAS",
  "PIPELINE_YAML_ALIAS_LIMIT",
  "PIPELINE_SCHEMA",
  "PIPELINE_UNKNOWN_KEY",
  "PIPELINE_UNKNOWN_REFERENCE",
];

/** One block of cases from one PRNG seed over a pool; fails at the first broken invariant. */
function fuzzBlock(seed: number, pool: Pool, cases: number): Outcomes {
  const rng = new Rng(seed);
  const outcomes: Outcomes = { rejected: 0, loaded: 0, codes: new Set() };
  for (let i = 0; i < cases; i++) {
    const { files, options } = makeCase(rng, pool);
    const problem = check(files, options, outcomes);
    if (problem !== undefined) {
      const shown = files.map((f) => `--- ${f.path}\n${f.text.slice(0, 4000)}`).join("\n");
      expect.fail(`seed ${seed}, case ${i}: ${problem}\n${shown}`);
    }
  }
  return outcomes;
}

/** The checks of a block's outcomes: the cases explored both sides and every kind of problem. */
function expectExploration(outcomes: Outcomes, cases: number): void {
  expect(outcomes.rejected, "cases the loader rejected").toBeGreaterThan(cases * 0.3);
  expect(outcomes.loaded, "cases the loader still loaded").toBeGreaterThan(cases * 0.04);
  expect(REACHED.filter((code) => !outcomes.codes.has(code))).toEqual([]);
}

describe("mutation fuzzing of the loader over the repository's corpus", () => {
  const CASES = 1_500;

  it("has seed files, templates among them", () => {
    expect(FIXTURE_POOL.seeds.length).toBeGreaterThanOrEqual(12);
    expect(FIXTURE_POOL.templates.length).toBeGreaterThanOrEqual(1);
  });

  it.each([0xfee1, 0xfee2])("seed %i", (seed) => {
    expectExploration(fuzzBlock(seed, FIXTURE_POOL, CASES), CASES);
  });
});

describe.skipIf(SKIP_EXTERNAL)("mutation fuzzing of the loader over the corpus", () => {
  const CASES = 2_600;

  it("has seed files", () => {
    expectExternalCorpus();
    expect(EXTERNAL_POOL.seeds.length).toBeGreaterThanOrEqual(60);
    expect(EXTERNAL_POOL.templates.length).toBeGreaterThanOrEqual(1);
  });

  it.each(Array.from({ length: 4 }, (_, i) => 0xc0ffee + i))("seed %i", (seed) => {
    expectExternalCorpus();
    expectExploration(fuzzBlock(seed, EXTERNAL_POOL, CASES), CASES);
  });
});

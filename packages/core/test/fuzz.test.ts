import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  buildGraph,
  DIAGNOSTIC_CODES,
  loadPipeline,
  topologicalOrder,
  type LoadOptions,
  type SourceFile,
} from "../src/index.js";

// A deterministic mutation fuzzer over the real corpus: each case mutates one or two real files
// a few times and checks that the loader never throws and that every diagnostic is well formed
// and points into an input file. A failure prints the seed and case, which replay it exactly.

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const CORPUS = resolve(REPO_ROOT, "../shared/corpus/shippable");

// Files up to this size keep a case in the millisecond range; the big generated buildami files
// add nothing that their smaller siblings do not have.
const MAX_SEED_BYTES = 12_000;
const CASES_PER_BLOCK = 2_600;
const BLOCKS = 4;

function corpusFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".yml")) out.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

const ALL = corpusFiles(CORPUS).map((p) => ({ path: relative(CORPUS, p), text: readFileSync(p, "utf8") }));
const SEEDS = ALL.filter((f) => !f.path.endsWith("shippable.templates.yml") && f.text.length <= MAX_SEED_BYTES);
const TEMPLATES = ALL.filter((f) => f.path.endsWith("shippable.templates.yml"));

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

function makeCase(rng: Rng): { files: SourceFile[]; options: LoadOptions } {
  const seed = rng.pick(SEEDS);
  const files: SourceFile[] = [{ path: rng.pick(PATHS), text: mutate(seed.text, rng) }];
  if (rng.chance(0.2) && TEMPLATES.length > 0) {
    // A templates file, mutated or not, above the user file.
    const tpl = rng.pick(TEMPLATES);
    files.push({ path: "shippable.templates.yml", text: rng.chance(0.5) ? mutate(tpl.text, rng) : tpl.text });
  } else if (rng.chance(0.2)) {
    const other = rng.pick(SEEDS);
    files.push({ path: "other/shippable.yml", text: rng.chance(0.5) ? mutate(other.text, rng) : other.text });
  }
  // Small alias caps keep alias-heavy mutations cheap and exercise the limit.
  const options: LoadOptions = { maxAliasNodes: rng.pick([50, 2_000, 20_000]) };
  return { files, options };
}

/** The first broken invariant of one case, or undefined. */
function check(files: readonly SourceFile[], options: LoadOptions): string | undefined {
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
  }
  if (result.ok !== !result.diagnostics.some((d) => d.severity === "error")) return "ok disagrees with diagnostics";
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

let total = 0;

describe("mutation fuzzing of the loader over the corpus", () => {
  it("has seed files", () => {
    expect(SEEDS.length).toBeGreaterThanOrEqual(60);
    expect(TEMPLATES.length).toBeGreaterThanOrEqual(1);
  });

  it.each(Array.from({ length: BLOCKS }, (_, i) => 0xc0ffee + i))("seed %i", (seed) => {
    const rng = new Rng(seed);
    let cases = 0;
    for (let i = 0; i < CASES_PER_BLOCK; i++) {
      const { files, options } = makeCase(rng);
      const problem = check(files, options);
      if (problem !== undefined) {
        const shown = files.map((f) => `--- ${f.path}\n${f.text.slice(0, 4000)}`).join("\n");
        expect.fail(`seed ${seed}, case ${i}: ${problem}\n${shown}`);
      }
      cases++;
    }
    total += cases;
    expect(cases).toBe(CASES_PER_BLOCK);
  });

  afterAll(() => {
    expect(total).toBeGreaterThanOrEqual(10_000);
  });
});

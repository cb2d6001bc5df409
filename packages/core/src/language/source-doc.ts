import jsYaml from "js-yaml";
import type { Diagnostic, DocPath, SourceRange } from "../diagnostics/diagnostic.js";
import {
  neutraliseLeadingDocumentMarker,
  templatesPrefix,
  parseSource,
  rangeOf,
  toPlain,
  type ParseLimits,
  type PNode,
  type SourceFile,
} from "./yaml-source.js";

/**
 * One YAML document of a pipeline file: its plain value, and its positions on demand.
 * `locate` never fails: for a path that does not exist it gives the deepest existing node.
 */
export interface SourceDoc {
  /** The file the document belongs to. */
  readonly file: string;
  readonly value: unknown;
  /** Range of the value at `path` (with `key`, of the key of the last segment). */
  locate(path: DocPath, key?: boolean): SourceRange;
  /** True when the value at `path` carries an anchor (a template holder). */
  anchored(path: DocPath): boolean;
}

/** The documents of one file and the diagnostics of parsing it. */
export interface LoadedFile {
  readonly docs: readonly SourceDoc[];
  readonly diagnostics: readonly Diagnostic[];
}

// YAML 1.2 core types plus merge keys, as the `yaml` path parses them (no timestamps: a
// versionName of 2024-01-01 stays a string). `types` is exported at run time but not typed.
// An anchor (`&name`) where YAML allows one: after a space, a line start, `[`, `{` or `,`.
const ANCHOR = /(^|[\s[{,])&[^\s[\]{},&]/m;

const SCHEMA = jsYaml.CORE_SCHEMA.extend({
  implicit: [(jsYaml as unknown as { types: { merge: jsYaml.Type } }).types.merge],
});

/**
 * Parses a file, templates prepended. Fast path: js-yaml reads the file; the position-keeping
 * parse of the `yaml` library runs only when a position is asked for. A file js-yaml rejects,
 * or whose aliases expand suspiciously (bomb or cycle), takes the `yaml` path at once, which
 * reports each problem with its position.
 */
export function loadFile(file: SourceFile, templates: SourceFile | undefined, limits: ParseLimits): LoadedFile {
  const prefix = templates === undefined ? "" : templatesPrefix(templates.text);
  let values: unknown[] | undefined;
  try {
    values = jsYaml.loadAll(prefix + neutraliseLeadingDocumentMarker(file.text), undefined, {
      schema: SCHEMA,
      filename: file.path,
    });
  } catch {
    values = undefined;
  }
  // Aliases need anchors: a text with no anchor cannot expand, so it needs no budget walk.
  const mayAlias = ANCHOR.test(prefix) || ANCHOR.test(file.text);
  if (values !== undefined && (!mayAlias || values.every((v) => withinBudget(v, limits.maxAliasNodes)))) {
    let slow: readonly (PNode | undefined)[] | undefined;
    const nodes = (): readonly (PNode | undefined)[] => (slow ??= parseSource(file, templates, limits).documents);
    return { docs: values.map((value, i) => lazyDoc(file.path, value, () => nodes()[i])), diagnostics: [] };
  }
  const parsed = parseSource(file, templates, limits);
  const docs: SourceDoc[] = [];
  for (const node of parsed.documents) if (node !== undefined) docs.push(nodeDoc(file.path, node));
  return { docs, diagnostics: parsed.diagnostics };
}

// Counts the nodes that alias expansion adds: an object met a second time is a shared
// reference (an alias), and its whole subtree counts each time it is met again. False on a
// cycle or past the budget.
function withinBudget(value: unknown, budget: number): boolean {
  let count = 0;
  const seen = new Set<object>();
  const active = new Set<object>();
  const visit = (v: unknown, expanded: boolean): boolean => {
    if (expanded && ++count > budget) return false;
    if (v === null || typeof v !== "object") return true;
    if (active.has(v)) return false;
    const again = expanded || seen.has(v);
    seen.add(v);
    active.add(v);
    const children = Array.isArray(v) ? (v as unknown[]) : Object.values(v);
    for (const child of children) if (!visit(child, again)) return false;
    active.delete(v);
    return true;
  };
  return visit(value, false);
}

const NOWHERE = (file: string): SourceRange => ({ file, line: 1, col: 1, endLine: 1, endCol: 1 });

function lazyDoc(file: string, value: unknown, node: () => PNode | undefined): SourceDoc {
  return {
    file,
    value,
    locate: (path, key) => {
      const n = node();
      return n === undefined ? NOWHERE(file) : locateIn(n, path, key === true);
    },
    anchored: (path) => {
      const n = node();
      return n !== undefined && anchoredIn(n, path);
    },
  };
}

function nodeDoc(file: string, node: PNode): SourceDoc {
  return {
    file,
    value: toPlain(node),
    locate: (path, key) => locateIn(node, path, key === true),
    anchored: (path) => anchoredIn(node, path),
  };
}

function child(node: PNode, key: string | number): { node: PNode; keyNode?: PNode } | undefined {
  if (node.kind === "map") {
    const e = node.entries.find((x) => x.key === String(key));
    return e === undefined ? undefined : { node: e.value, keyNode: e.keyNode };
  }
  if (node.kind === "seq" && typeof key === "number") {
    const item = node.items[key];
    return item === undefined ? undefined : { node: item };
  }
  return undefined;
}

function locateIn(root: PNode, path: DocPath, key: boolean): SourceRange {
  let current = root;
  for (let i = 0; i < path.length; i++) {
    const next = child(current, path[i] ?? "");
    if (next === undefined) return rangeOf(current);
    if (key && i === path.length - 1 && next.keyNode !== undefined) return rangeOf(next.keyNode);
    current = next.node;
  }
  return rangeOf(current);
}

function anchoredIn(root: PNode, path: DocPath): boolean {
  let current: PNode | undefined = root;
  for (const part of path) {
    current = current === undefined ? undefined : child(current, part)?.node;
  }
  return current?.anchored === true;
}

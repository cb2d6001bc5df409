import type { Alias } from "yaml";
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type Document,
  type Node as YamlNode,
} from "yaml";
import { diagnostic, type Diagnostic, type SourceRange } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/did-you-mean.js";

/** A file handed to the loader: `path` is relative to the pipeline directory, `/`-separated. */
export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

/** Maps offsets of the parsed text back to files, lines and columns. */
export class Locator {
  readonly #lines = new LineCounter();
  readonly #prefixLength: number;
  readonly #prefixLines: number;

  constructor(
    readonly file: string,
    readonly prefixFile: string | undefined,
    text: string,
    prefixLength: number,
  ) {
    this.#prefixLength = prefixLength;
    let lines = 0;
    for (let i = 0; i < prefixLength; i++) if (text.charCodeAt(i) === 10) lines++;
    this.#prefixLines = lines;
    let from = 0;
    this.#lines.addNewLine(0);
    for (;;) {
      const at = text.indexOf("\n", from);
      if (at < 0) break;
      this.#lines.addNewLine(at + 1);
      from = at + 1;
    }
  }

  /** The 1-based range of offsets `[start, end)` of the parsed text. */
  range(start: number, end: number): SourceRange {
    const inPrefix = start < this.#prefixLength;
    const shift = inPrefix ? 0 : this.#prefixLines;
    const a = this.#lines.linePos(start);
    const b = this.#lines.linePos(Math.max(start, end));
    return {
      file: inPrefix ? (this.prefixFile ?? this.file) : this.file,
      line: a.line - shift,
      col: a.col,
      endLine: b.line - shift,
      endCol: b.col,
    };
  }
}

interface Spanned {
  readonly start: number;
  readonly end: number;
  readonly locator: Locator;
}

/** A mapping with its entries in document order (merge keys already applied). */
export interface PMap extends Spanned {
  /** The mapping carries an anchor: a top-level one is a template holder. */
  readonly anchored: boolean;
  readonly kind: "map";
  readonly entries: readonly PEntry[];
}
/** One key/value pair of a mapping. */
export interface PEntry {
  readonly key: string;
  readonly keyNode: PScalar;
  readonly value: PNode;
}
/** A sequence. */
export interface PSeq extends Spanned {
  readonly kind: "seq";
  readonly anchored: boolean;
  readonly items: readonly PNode[];
}
/** A scalar: string, number, boolean or null. */
export interface PScalar extends Spanned {
  readonly kind: "scalar";
  readonly anchored?: boolean;
  readonly value: unknown;
}
/** A YAML value with its position, aliases expanded. */
export type PNode = PMap | PSeq | PScalar;

/** The source range of a node. */
export function rangeOf(node: Spanned): SourceRange {
  return node.locator.range(node.start, node.end);
}

/** Looks up a key of a mapping node. */
export function entry(map: PMap, key: string): PEntry | undefined {
  for (const e of map.entries) if (e.key === key) return e;
  return undefined;
}

/** Converts a node to a plain JavaScript value (what a schema checks). */
export function toPlain(node: PNode): unknown {
  switch (node.kind) {
    case "scalar":
      return node.value;
    case "seq":
      return node.items.map(toPlain);
    case "map": {
      const out: Record<string, unknown> = {};
      for (const e of node.entries) out[e.key] = toPlain(e.value);
      return out;
    }
  }
}

/** Limits that keep a hostile file from exhausting memory. */
export interface ParseLimits {
  /** Nodes that alias expansion may produce in one document. */
  readonly maxAliasNodes: number;
}

/** The documents of one file, in order; undefined for a document with a YAML error. */
export interface ParsedFile {
  readonly path: string;
  readonly documents: readonly (PNode | undefined)[];
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Parses one file, with an optional templates text prepended so that its anchors are visible
 * (Shippable's `shippable.templates.yml` rule). Never throws: problems become diagnostics and
 * a document with a YAML error yields no node.
 */
export function parseSource(file: SourceFile, templates: SourceFile | undefined, limits: ParseLimits): ParsedFile {
  const prefix = templates === undefined ? "" : templatesPrefix(templates.text);
  const text = prefix + neutraliseLeadingDocumentMarker(file.text);
  const locator = new Locator(file.path, templates?.path, text, prefix.length);
  const diagnostics: Diagnostic[] = [];
  const documents: (PNode | undefined)[] = [];
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { merge: true, uniqueKeys: false, prettyErrors: false }) as Document.Parsed[];
  } catch (error) {
    diagnostics.push(
      diagnostic(
        "PIPELINE_YAML_SYNTAX",
        locator.range(prefix.length, prefix.length),
        [],
        `cannot parse YAML: ${String(error)}`,
      ),
    );
    return { path: file.path, documents, diagnostics };
  }
  if (!Array.isArray(docs)) docs = [docs];
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        diagnostics.push(
          diagnostic(
            "PIPELINE_YAML_SYNTAX",
            locator.range(error.pos[0], error.pos[1]),
            [],
            firstLine(error.message),
            "fix the YAML syntax; indentation and unquoted `:` or `#` are the usual causes",
          ),
        );
      }
      continue;
    }
    if (doc.contents === null) continue;
    const converter = new Converter(doc, locator, limits, diagnostics);
    const node = converter.convert(doc.contents, []);
    if (node !== undefined) documents.push(node);
  }
  return { path: file.path, documents, diagnostics };
}

/**
 * The text of a templates file as a prefix of another file: document markers (`---`, `...`)
 * are blanked, as they would split the anchors from the file, and it ends with a newline.
 */
export function templatesPrefix(text: string): string {
  const blanked = text.replace(/^(---|\.\.\.)(?=[ \t]*(\r?\n|$))/gm, "   ");
  return blanked.endsWith("\n") ? blanked : `${blanked}\n`;
}

/**
 * Blanks a leading `---`: after prepended templates it would open a second document, and
 * aliases never cross documents. Spaces keep every offset (and so every position) unchanged.
 */
export function neutraliseLeadingDocumentMarker(text: string): string {
  const match = /^(\s*(#[^\n]*\n\s*)*)---(?=\s)/.exec(text);
  if (match === null) return text;
  const at = (match[1] ?? "").length;
  return `${text.slice(0, at)}   ${text.slice(at + 3)}`;
}

function firstLine(message: string): string {
  const nl = message.indexOf("\n");
  return nl < 0 ? message : message.slice(0, nl);
}

class Converter {
  #aliasNodes = 0;
  #aliasRoot: { at: Spanned; path: (string | number)[] } | undefined;
  #aborted = false;
  readonly #active = new Set<YamlNode>();
  #anchors: string[] | undefined;

  constructor(
    private readonly doc: Document.Parsed,
    private readonly locator: Locator,
    private readonly limits: ParseLimits,
    private readonly diagnostics: Diagnostic[],
  ) {}

  // Only needed for the hint of an unknown alias, so collected on first use.
  private anchors(): string[] {
    this.#anchors ??= collectAnchors(this.doc);
    return this.#anchors;
  }

  convert(
    node: YamlNode | null | undefined,
    path: (string | number)[],
    inAlias = false,
    at?: Spanned,
  ): PNode | undefined {
    if (this.#aborted) return undefined;
    if (inAlias && ++this.#aliasNodes > this.limits.maxAliasNodes) {
      this.#aborted = true;
      const root = this.#aliasRoot;
      this.diagnostics.push(
        diagnostic(
          "PIPELINE_YAML_ALIAS_LIMIT",
          rangeOf(root?.at ?? at ?? this.span(node)),
          root?.path ?? path,
          `aliases expand to more than ${this.limits.maxAliasNodes} nodes; the document is not loaded`,
          'an alias that refers to anchors which themselves repeat aliases grows exponentially (an "alias bomb"); inline the content instead',
        ),
      );
      return undefined;
    }
    if (node === null || node === undefined) {
      const s = at ?? { start: 0, end: 0, locator: this.locator };
      return { kind: "scalar", value: null, start: s.start, end: s.end, locator: this.locator };
    }
    if (isAlias(node)) return this.alias(node, path, at);
    const span = this.span(node);
    if (isScalar(node)) return { kind: "scalar", value: node.value, anchored: node.anchor !== undefined, ...span };
    if (isSeq(node)) {
      const items: PNode[] = [];
      node.items.forEach((item, i) => {
        const converted = this.convert(item as YamlNode, [...path, i], inAlias);
        if (converted !== undefined) items.push(converted);
      });
      return { kind: "seq", items, anchored: node.anchor !== undefined, ...span };
    }
    if (isMap(node)) {
      const entries: PEntry[] = [];
      const merged: PEntry[] = [];
      const seen = new Map<string, number>();
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode | null;
        const keyValue =
          keyNode !== null && isScalar(keyNode) ? keyNode.value : keyNode === null ? null : String(keyNode);
        const keySpan = keyNode === null ? span : this.span(keyNode);
        // With merge keys on, the yaml library gives `<<` as a symbol.
        const isMerge =
          keyNode !== null && isScalar(keyNode) && (typeof keyValue === "symbol" || keyNode.source === "<<");
        const key = isMerge ? "<<" : String(keyValue);
        if (isMerge) {
          this.merge(pair.value as YamlNode, [...path, key], merged, keySpan);
          continue;
        }
        const value = this.convert(pair.value as YamlNode | null, [...path, key], inAlias, {
          start: keySpan.end,
          end: keySpan.end,
          locator: this.locator,
        });
        if (value === undefined) continue;
        const previous = seen.get(key);
        const e: PEntry = { key, keyNode: { kind: "scalar", value: keyValue, ...keySpan }, value };
        const clash = previous === undefined ? undefined : entries[previous];
        // A key of the prepended templates repeated by the file itself is not the user's
        // duplicate: the file's own key wins (PIPELINE_TEMPLATES_OBJECTS reports the rest).
        if (previous !== undefined && clash !== undefined && rangeOf(clash.keyNode).file !== rangeOf(keySpan).file) {
          entries[previous] = e;
        } else if (previous !== undefined) {
          this.diagnostics.push(
            diagnostic(
              "PIPELINE_YAML_DUPLICATE_KEY",
              rangeOf(keySpan),
              [...path, key],
              `key "${key}" appears twice in this mapping; the last one is used`,
              "remove one of the two keys",
            ),
          );
          entries[previous] = e;
        } else {
          seen.set(key, entries.length);
          entries.push(e);
        }
      }
      for (const e of merged) {
        if (!seen.has(e.key)) {
          seen.set(e.key, entries.length);
          entries.push(e);
        }
      }
      return { kind: "map", entries, anchored: node.anchor !== undefined, ...span };
    }
    return { kind: "scalar", value: null, ...span };
  }

  private merge(value: YamlNode | null, path: (string | number)[], into: PEntry[], at: Spanned): void {
    const sources = value !== null && isSeq(value) ? (value.items as YamlNode[]) : [value];
    for (const source of sources) {
      const converted = this.convert(source, path, false, at);
      if (converted?.kind === "map") {
        for (const e of converted.entries) if (!into.some((m) => m.key === e.key)) into.push(e);
      } else if (converted !== undefined && !(converted.kind === "scalar" && converted.value === null)) {
        this.diagnostics.push(
          diagnostic(
            "PIPELINE_SCHEMA",
            rangeOf(at),
            path,
            "a merge key (<<) must refer to a mapping or a list of mappings",
          ),
        );
      }
    }
  }

  private alias(node: Alias, path: (string | number)[], at: Spanned | undefined): PNode | undefined {
    const span = this.span(node);
    const target = node.resolve(this.doc) as YamlNode | undefined;
    if (target === undefined) {
      const anchors = this.anchors();
      const hint = didYouMean(node.source, anchors);
      this.diagnostics.push(
        diagnostic(
          "PIPELINE_YAML_UNKNOWN_ALIAS",
          rangeOf(span),
          path,
          `alias *${node.source} refers to anchor &${node.source}, which is defined nowhere before it in this file or in shippable.templates.yml`,
          hint ??
            (anchors.length > 0
              ? `anchors available here: ${anchors
                  .slice(0, 8)
                  .map((a) => `&${a}`)
                  .join(", ")}`
              : "define the anchor with &" + node.source + " before using it, or add it to shippable.templates.yml"),
        ),
      );
      return { kind: "scalar", value: null, ...span };
    }
    if (this.#active.has(target)) {
      this.#aborted = true;
      this.diagnostics.push(
        diagnostic(
          "PIPELINE_YAML_ALIAS_LIMIT",
          rangeOf(span),
          path,
          `alias *${node.source} refers to itself`,
          "an anchor cannot contain an alias to itself",
        ),
      );
      return undefined;
    }
    this.#active.add(target);
    // The outermost alias is where an expansion starts: the place to report a bomb.
    const outermost = this.#aliasRoot === undefined;
    if (outermost) this.#aliasRoot = { at: span, path: [...path] };
    const result = this.convert(target, path, true, at ?? span);
    if (outermost) this.#aliasRoot = undefined;
    this.#active.delete(target);
    return result;
  }

  private span(node: YamlNode | null | undefined): Spanned {
    const range = node?.range;
    if (range === undefined || range === null) return { start: 0, end: 0, locator: this.locator };
    return { start: range[0], end: contentEnd(node, range[1]), locator: this.locator };
  }
}

/**
 * Where a node's content ends. A block collection's value range runs on over the comment and
 * line break after its last item (`- IN: rpo   # typo`): its content ends where its last item's
 * does, so a caret never underlines a trailing comment.
 */
function contentEnd(node: YamlNode | null | undefined, end: number): number {
  const items = (node as { items?: unknown } | null | undefined)?.items;
  if (!Array.isArray(items) || items.length === 0) return end;
  const last = items[items.length - 1] as { range?: unknown; key?: unknown; value?: unknown } | null;
  const child = (last !== null && typeof last === "object" && "value" in last ? (last.value ?? last.key) : last) as
    YamlNode | null | undefined;
  const range = child?.range;
  if (range === undefined || range === null) return end;
  return Math.min(end, contentEnd(child, range[1]));
}

function collectAnchors(doc: Document.Parsed): string[] {
  const anchors: string[] = [];
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== "object") return;
    const n = node as { anchor?: string; items?: unknown[]; key?: unknown; value?: unknown };
    if (typeof n.anchor === "string") anchors.push(n.anchor);
    if (Array.isArray(n.items)) for (const item of n.items) visit(item);
    if ("key" in n) visit(n.key);
    if ("value" in n && typeof n.value === "object") visit(n.value);
  };
  visit(doc.contents);
  return anchors;
}

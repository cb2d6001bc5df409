import { readFileSync } from "node:fs";
import { RUNNER_ERROR_CODES } from "@causeway/runner";
import { STORE_ERROR_CODES } from "@causeway/store";
import { describe, expect, it } from "vitest";
import { DIAGNOSTIC_CODES, ERROR_CODES, type DiagnosticCode, type ErrorCode } from "../src/index.js";

// docs/errors.md is the user-facing catalog, in two parts: part 1 has one `## CODE` section per
// diagnostic code (packages/core/src/diagnostics/codes.ts) stating its severity; part 2 has one
// per API error code (packages/core/src/errors.ts) stating its HTTP status and kind, then one per
// store or runner code that reaches users (every code of those catalogs that is not internal),
// stating its kind. This keeps the page in step with the four catalogs.
const doc = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");

// A heading that looks like a code (`## PIPELINE_CYCLE`, `## INTERNAL`), as opposed to
// `## Severities` or `## Part 2: API and CLI errors`.
const CODE_HEADING = /^## ([A-Z][A-Z0-9_]*)[ \t]*$/gm;
const PART_2 = "## Part 2: API and CLI errors";

interface Section {
  readonly text: string;
  /** Offset of the heading in the page. */
  readonly at: number;
}

// Each code's section runs to the next heading of level 1 or 2.
function sections(text: string): Map<string, Section> {
  const found = new Map<string, Section>();
  for (const match of text.matchAll(CODE_HEADING)) {
    const at = match.index ?? 0;
    const rest = text.slice(at + match[0].length);
    const next = rest.search(/^#{1,2} /m);
    found.set(match[1] ?? "", { text: next < 0 ? rest : rest.slice(0, next), at });
  }
  return found;
}

const documented = sections(doc);
const part2At = doc.indexOf(`\n${PART_2}\n`);
const diagnostics = Object.keys(DIAGNOSTIC_CODES) as DiagnosticCode[];
const errors = Object.keys(ERROR_CODES) as ErrorCode[];
type Kind = "user" | "operational" | "internal";
const storeAndRunner: [string, Kind][] = [...Object.entries(STORE_ERROR_CODES), ...Object.entries(RUNNER_ERROR_CODES)];
// Store and runner codes that reach users; internal ones surface as INTERNAL.
const visible = storeAndRunner.filter(([, kind]) => kind !== "internal");
const known = new Set<string>([...diagnostics, ...errors, ...storeAndRunner.map(([code]) => code)]);

function field(code: string, pattern: RegExp): string | undefined {
  return pattern.exec(documented.get(code)?.text ?? "")?.[1];
}

describe("docs/errors.md", () => {
  it("has a part 2 after part 1", () => {
    expect(part2At).toBeGreaterThan(doc.indexOf("\n## Part 1: diagnostics\n"));
    expect(doc.indexOf("\n## Part 1: diagnostics\n")).toBeGreaterThan(0);
  });

  it("lists no code that no catalog has", () => {
    const extra = [...documented.keys()].filter((code) => !known.has(code));
    expect(extra).toEqual([]);
  });

  it("has each code heading once", () => {
    const headings = [...doc.matchAll(CODE_HEADING)].map((m) => m[1]);
    expect(headings.length).toBe(new Set(headings).size);
  });

  describe("part 1: diagnostics", () => {
    it.each(diagnostics)("documents %s under its own heading, in part 1", (code) => {
      expect(documented.has(code)).toBe(true);
      expect(documented.get(code)?.at).toBeLessThan(part2At);
    });

    it.each(diagnostics)("states the catalog's severity of %s", (code) => {
      expect(field(code, /\*\*Severity:\*\* (error|warning|info)\b/)).toBe(DIAGNOSTIC_CODES[code].severity);
    });
  });

  describe("part 2: API and CLI errors", () => {
    it.each(errors)("documents %s under its own heading, in part 2", (code) => {
      expect(documented.has(code)).toBe(true);
      expect(documented.get(code)?.at).toBeGreaterThan(part2At);
    });

    it.each(errors)("states the catalog's HTTP status and kind of %s", (code) => {
      expect(field(code, /\*\*HTTP status:\*\* (\d{3})\b/)).toBe(String(ERROR_CODES[code].status));
      expect(field(code, /\*\*Kind:\*\* (user|operational|internal)\b/)).toBe(ERROR_CODES[code].kind);
    });

    it.each(visible)("documents the store or runner code %s (kind %s), in part 2", (code, kind) => {
      expect(documented.has(code)).toBe(true);
      expect(documented.get(code)?.at).toBeGreaterThan(part2At);
      expect(field(code, /\*\*Kind:\*\* (user|operational|internal)\b/)).toBe(kind);
    });

    it("gives a code shared by the API and store catalogs one kind", () => {
      const clashes = storeAndRunner.filter(
        ([code, kind]) => code in ERROR_CODES && ERROR_CODES[code as ErrorCode].kind !== kind,
      );
      expect(clashes).toEqual([]);
    });

    it("shares no code between the diagnostics and the other catalogs", () => {
      const shared = [...errors, ...storeAndRunner.map(([code]) => code)].filter((code) => code in DIAGNOSTIC_CODES);
      expect(shared).toEqual([]);
    });
  });
});

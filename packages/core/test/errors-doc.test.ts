import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DIAGNOSTIC_CODES, ERROR_CODES, exitCodeOf, type DiagnosticCode, type ErrorCode } from "../src/index.js";

// docs/errors.md is the user-facing catalog, in two parts: part 1 has one `## CODE` section per
// diagnostic code (packages/core/src/diagnostics/codes.ts) stating its severity; part 2 has one
// per error code (packages/core/src/errors.ts, the one catalog of the API, CLI, engine, store and
// runner) stating its HTTP status, kind and CLI exit code. This keeps the page in step with both.
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
const known = new Set<string>([...diagnostics, ...errors]);

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

    it.each(errors)("states the catalog's HTTP status, kind and CLI exit code of %s", (code) => {
      expect(field(code, /\*\*HTTP status:\*\* (\d{3})\b/)).toBe(String(ERROR_CODES[code].status));
      expect(field(code, /\*\*Kind:\*\* (user|operational|internal)\b/)).toBe(ERROR_CODES[code].kind);
      expect(field(code, /\*\*CLI exit code:\*\* (\d)\b/)).toBe(String(exitCodeOf(code)));
    });

    it("has a catalog table whose rows are the catalog's codes, statuses, kinds and exit codes", () => {
      const table = doc.slice(doc.indexOf("\n## Error catalog\n"));
      const rows = [...table.matchAll(/^\| \[([A-Z_]+)\]\(#[a-z_]+\) +\| (\d{3}) +\| (\w+) +\| (\d) +\|/gm)].map((m) =>
        m.slice(1, 5).join(" "),
      );
      expect(rows).toEqual(errors.map((c) => `${c} ${ERROR_CODES[c].status} ${ERROR_CODES[c].kind} ${exitCodeOf(c)}`));
    });

    it("shares no code between the diagnostics and the other catalogs", () => {
      const shared = errors.filter((code) => code in DIAGNOSTIC_CODES);
      expect(shared).toEqual([]);
    });
  });
});

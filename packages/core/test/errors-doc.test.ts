import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DIAGNOSTIC_CODES, type DiagnosticCode } from "../src/index.js";

// docs/errors.md is the user-facing catalog: one `## CODE` section per diagnostic code, each
// stating the code's severity. This keeps it in step with packages/core/src/diagnostics/codes.ts.
const doc = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");

// A heading that looks like a code (`## PIPELINE_CYCLE`), as opposed to `## Severities`.
const CODE_HEADING = /^## ([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)[ \t]*$/gm;

function sections(text: string): Map<string, string> {
  const found = new Map<string, string>();
  const matches = [...text.matchAll(CODE_HEADING)];
  for (const match of matches) {
    const start = (match.index ?? 0) + match[0].length;
    const rest = text.slice(start);
    const next = rest.search(/^## /m);
    found.set(match[1] ?? "", next < 0 ? rest : rest.slice(0, next));
  }
  return found;
}

const documented = sections(doc);
const catalog = Object.keys(DIAGNOSTIC_CODES) as DiagnosticCode[];

describe("docs/errors.md", () => {
  it.each(catalog)("documents %s under its own heading", (code) => {
    expect(documented.has(code)).toBe(true);
  });

  it("lists no code that the catalog lacks", () => {
    const extra = [...documented.keys()].filter((code) => !(code in DIAGNOSTIC_CODES));
    expect(extra).toEqual([]);
  });

  it("has each code heading once", () => {
    const headings = [...doc.matchAll(CODE_HEADING)].map((m) => m[1]);
    expect(headings.length).toBe(new Set(headings).size);
  });

  it.each(catalog)("states the catalog's severity of %s", (code) => {
    const severity = /\*\*Severity:\*\* (error|warning|info)\b/.exec(documented.get(code) ?? "")?.[1];
    expect(severity).toBe(DIAGNOSTIC_CODES[code].severity);
  });
});

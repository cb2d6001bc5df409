import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RESOURCE_KINDS, RESOURCE_TYPES } from "../src/index.js";

// docs/language.md documents each resource type from its one home: the table "Versions and what
// a job sees, by type" has one row per type whose cells are its kind's `holds`, `versionsFrom`
// and `jobSees` (packages/core/src/kinds/). This keeps the page and the kinds in step.
const doc = readFileSync(new URL("../../../docs/language.md", import.meta.url), "utf8");
const HEADING = "### Versions and what a job sees, by type\n";

function rows(): Map<string, string[]> {
  const at = doc.indexOf(HEADING);
  expect(at, `docs/language.md has no "${HEADING.trim()}" section`).toBeGreaterThanOrEqual(0);
  const rest = doc.slice(at + HEADING.length);
  const section = rest.slice(0, rest.search(/^#{1,3} /m));
  const found = new Map<string, string[]>();
  for (const line of section.split("\n")) {
    const m = /^\| `([A-Za-z]+)` +\|(.*)\|$/.exec(line);
    if (m === null) continue;
    found.set(
      m[1] ?? "",
      (m[2] ?? "").split("|").map((c) => c.trim()),
    );
  }
  return found;
}

describe("docs/language.md: each resource type from its kind", () => {
  const table = rows();

  it("has exactly one row per type the language knows", () => {
    expect([...table.keys()].sort()).toEqual([...RESOURCE_TYPES].sort());
  });

  it.each(RESOURCE_TYPES.map((t) => [t]))(
    "%s: what a version holds, where versions come from, what a job sees",
    (type) => {
      const kind = RESOURCE_KINDS[type];
      expect(table.get(type)).toEqual([kind.holds, kind.versionsFrom, kind.jobSees]);
    },
  );
});

import { describe, expect, it } from "vitest";
import { EXCERPT_LINE_CHARS, loadFacts, problemExcerpt, type Diagnostic } from "../src/index.js";

// The lines around an apply's problem, kept in the apply history for a code frame (the web UI
// shows them under the error).

const TEXT = ["one", "two", "three", "four", "five", "six"].join("\n");

describe("problemExcerpt", () => {
  it.each([
    ["the middle", 3, { firstLine: 1, lines: ["one", "two", "three", "four", "five"] }],
    ["the first line", 1, { firstLine: 1, lines: ["one", "two", "three"] }],
    ["the last line", 6, { firstLine: 4, lines: ["four", "five", "six"] }],
  ])("gives two lines either side of %s, cut at the file's ends", (_what, line, expected) => {
    expect(problemExcerpt(TEXT, line)).toEqual(expected);
  });

  it.each([0, 7, 1.5, -1])("gives nothing for line %s, which the file does not have", (line) => {
    expect(problemExcerpt(TEXT, line)).toBeUndefined();
  });

  it("reads CRLF files and cuts long lines", () => {
    const long = "x".repeat(EXCERPT_LINE_CHARS + 50);
    expect(problemExcerpt(`a\r\n${long}\r\nc`, 2, 0)).toEqual({
      firstLine: 2,
      lines: [`${"x".repeat(EXCERPT_LINE_CHARS)}…`],
    });
  });
});

describe("loadFacts", () => {
  const error = (file: string, line: number): Diagnostic =>
    ({ code: "PIPELINE_YAML_SYNTAX", severity: "error", file, line, col: 1, message: "bad" }) as Diagnostic;

  it("adds an excerpt to each error whose file's text it is given, and none to the others", () => {
    const facts = loadFacts(
      { files: ["a.yml", "b.yml"], refused: [], diagnostics: [error("a.yml", 2), error("b.yml", 1)] },
      (file) => (file === "a.yml" ? "x: [\ny: ]\n" : undefined),
    );
    expect(facts.problems[0]?.excerpt).toEqual({ firstLine: 1, lines: ["x: [", "y: ]", ""] });
    expect(facts.problems[1]).not.toHaveProperty("excerpt");
  });
});

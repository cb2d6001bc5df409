import { describe, expect, it } from "vitest";
import { codeFrame } from "../src/code-frame.js";

describe("codeFrame", () => {
  it("numbers the excerpt, marks the problem's line and puts a caret under its column", () => {
    const frame = codeFrame({
      line: 10,
      col: 9,
      excerpt: { firstLine: 9, lines: ["    steps:", "      - IN: nothing_here", "      - TASK:"] },
    });
    expect(frame).toEqual([
      "   9 |     steps:",
      "> 10 |       - IN: nothing_here",
      "     |         ^",
      "  11 |       - TASK:",
    ]);
  });

  it("is empty without an excerpt", () => {
    expect(codeFrame({ line: 1, col: 1 })).toEqual([]);
  });
});

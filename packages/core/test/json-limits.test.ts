import { describe, expect, it } from "vitest";
import { exceedsJsonDepth, MAX_JSON_DEPTH } from "../src/index.js";

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

describe("exceedsJsonDepth", () => {
  it.each([
    ["a scalar", 1, 0, false],
    ["null", null, 0, false],
    ["an empty object is one level", {}, 1, false],
    ["an empty object past a limit of 0", {}, 0, true],
    ["64 levels, at the limit", nested(64), 64, false],
    ["65 levels, past it", nested(65), 64, true],
  ])("%s", (_what, value, max, exceeds) => expect(exceedsJsonDepth(value, max)).toBe(exceeds));

  it("defaults to MAX_JSON_DEPTH", () => {
    expect(exceedsJsonDepth(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(exceedsJsonDepth(nested(MAX_JSON_DEPTH + 1))).toBe(true);
  });

  it("answers for a value nested 100,000 deep without running out of stack", () => {
    const text = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    expect(exceedsJsonDepth(JSON.parse(text))).toBe(true);
  });
});

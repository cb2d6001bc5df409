import { describe, expect, it } from "vitest";
import { formatDuration, runLabel, shortVersionName } from "../src/index.js";

describe("formatDuration keeps two significant digits and a unit", () => {
  it.each([
    [0, "0ms"],
    [-5, "0ms"],
    [Number.NaN, "0ms"],
    [7, "7ms"],
    [86, "86ms"],
    [999, "999ms"],
    [1000, "1.0s"],
    [1449, "1.4s"],
    [9999, "9.9s"],
    [10_000, "10s"],
    [59_999, "59s"],
    [60_000, "1m00s"],
    [123_000, "2m03s"],
    [3_599_999, "59m59s"],
    [3_600_000, "1h00m"],
    [7_500_000, "2h05m"],
  ])("%d ms -> %s", (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe("runLabel names a run by its job and per-job number", () => {
  it("is `job #n`", () => expect(runLabel({ job: "deploy_staging", number: 2 })).toBe("deploy_staging #2"));
});

describe("shortVersionName shortens long names for tables", () => {
  it.each([
    ["a commit SHA keeps 7 digits", "c0ffee1234567890abcdef1234567890abcdef12", "c0ffee1"],
    ["a SHA-256 keeps 7 digits", "A".repeat(64), "AAAAAAA"],
    ["a short hex name is unchanged", "c0ffee12", "c0ffee12"],
    ["a semver is unchanged", "1.2.3-rc.4", "1.2.3-rc.4"],
    ["a 24-character name is unchanged", "x".repeat(24), "x".repeat(24)],
    ["a longer name is cut with an ellipsis", "release-2026-12-03-build-123456", "release-2026-12-03-buil…"],
    ["a cut never splits a character", "é".repeat(30), `${"é".repeat(23)}…`],
  ])("%s", (_what, name, short) => expect(shortVersionName(name)).toBe(short));
});

import { describe, expect, it } from "vitest";
import { didYouMean, editDistance, nearestNames } from "../src/index.js";

describe("editDistance counts edits as a person counts typos", () => {
  it.each([
    ["build", "build", 0],
    ["biuld", "build", 1], // two neighbours swapped: one edit
    ["rpo", "repo", 1],
    ["buidl", "build", 1],
    ["bulid", "build", 1],
    ["deploy", "depoly", 1],
    ["kitten", "sitting", 3],
    ["ab", "ba", 1],
    ["abc", "cab", 2],
  ])("%s -> %s: %i", (a, b, d) => {
    expect(editDistance(a, b, 5)).toBe(d);
    expect(editDistance(b, a, 5)).toBe(d);
  });

  it("stops at the bound", () => expect(editDistance("aaaaaaaa", "bbbbbbbb", 2)).toBe(3));
});

const JOBS = ["build", "deploy_staging", "deploy_production", "smoke_test", "app_repo", "app_build"];

describe("nearestNames: one rule for every typo hint", () => {
  it.each([
    ["a transposition", "biuld", ["build"]],
    ["a missing letter", "rpo", []],
    ["a missing letter, in a longer name", "smoke_tst", ["smoke_test"]],
    ["another case", "BUILD", ["build"]],
    ["the start of a name", "deploy_prod", ["deploy_production"]],
    ["the start of several names, shortest completion first", "deploy", ["deploy_staging", "deploy_production"]],
    ["edits before starts", "app_buil", ["app_build"]],
    ["nothing close", "zebra", []],
    ["too short to be a start", "de", []],
  ])("%s: %s", (_what, word, names) => expect(nearestNames(word, JOBS)).toEqual(names));

  it("offers three names at most", () =>
    expect(nearestNames("job", ["job_a", "job_b", "job_c", "job_d"])).toEqual(["job_a", "job_b", "job_c"]));

  it("finds rpo in a line that has repo", () => expect(nearestNames("rpo", ["repo", "build"])).toEqual(["repo"]));
});

describe("didYouMean", () => {
  it.each([
    ["biuld", 'did you mean "build"?'],
    ["deploy", 'did you mean "deploy_staging" or "deploy_production"?'],
    ["zebra", undefined],
  ])("%s", (word, hint) => expect(didYouMean(word, JOBS)).toBe(hint));

  it("lists three as a, b or c", () =>
    expect(didYouMean("job", ["job_a", "job_b", "job_c"])).toBe('did you mean "job_a", "job_b" or "job_c"?'));
});

import { describe, expect, it } from "vitest";
import { BUMP_KINDS, bumpVersion, type BumpKind } from "../src/index.js";
import { named } from "./helpers.js";

// docs/semantics.md "Release jobs" and docs/shipctl.md `bump_version`, which document one rule:
// the examples of both pages are rows here, word for word.

interface Case {
  readonly name: string;
  readonly version: string;
  readonly bump: BumpKind;
  readonly expected: string | undefined;
}

describe("bumpVersion: how a release job (and shipctl bump_version) bumps a semantic version", () => {
  it("knows the bumps of the docs, minor being the release job's default", () => {
    expect(BUMP_KINDS).toEqual(["major", "minor", "patch", "alpha", "beta", "rc", "final"]);
  });

  it.each(
    named<Case>([
      // major, minor, patch: increments that number, zeroes the smaller ones, drops the pre-release.
      { name: "1.2.3 + patch = 1.2.4", version: "1.2.3", bump: "patch", expected: "1.2.4" },
      { name: "1.2.3 + minor = 1.3.0", version: "1.2.3", bump: "minor", expected: "1.3.0" },
      { name: "1.2.3 + major = 2.0.0", version: "1.2.3", bump: "major", expected: "2.0.0" },
      { name: "numbers count in decimal: 1.9.9 + patch = 1.9.10", version: "1.9.9", bump: "patch", expected: "1.9.10" },
      {
        name: "1.0.0-rc.1 + patch = 1.0.1: drops the pre-release",
        version: "1.0.0-rc.1",
        bump: "patch",
        expected: "1.0.1",
      },
      { name: "1.0.0-beta + minor = 1.1.0", version: "1.0.0-beta", bump: "minor", expected: "1.1.0" },
      { name: "1.0.0-alpha.3 + major = 2.0.0", version: "1.0.0-alpha.3", bump: "major", expected: "2.0.0" },
      // alpha, beta, rc: adds the tag, or counts it up when the version has it; replaces another.
      { name: "1.0.0 + rc = 1.0.0-rc: adds the pre-release tag", version: "1.0.0", bump: "rc", expected: "1.0.0-rc" },
      { name: "1.0.0 + alpha = 1.0.0-alpha", version: "1.0.0", bump: "alpha", expected: "1.0.0-alpha" },
      { name: "1.0.0 + beta = 1.0.0-beta", version: "1.0.0", bump: "beta", expected: "1.0.0-beta" },
      {
        name: "1.0.0-rc + rc = 1.0.0-rc.1: counts the tag up",
        version: "1.0.0-rc",
        bump: "rc",
        expected: "1.0.0-rc.1",
      },
      { name: "1.0.0-rc.1 + rc = 1.0.0-rc.2", version: "1.0.0-rc.1", bump: "rc", expected: "1.0.0-rc.2" },
      { name: "1.0.0-beta.9 + beta = 1.0.0-beta.10", version: "1.0.0-beta.9", bump: "beta", expected: "1.0.0-beta.10" },
      {
        // Fixed with these tests: the code went back to 1.0.0-rc (lower than rc1); shipctl counts up.
        name: "1.0.0-rc1 + rc = 1.0.0-rc.2: a counter without its dot is counted up too",
        version: "1.0.0-rc1",
        bump: "rc",
        expected: "1.0.0-rc.2",
      },
      {
        name: "1.0.0-rc + alpha = 1.0.0-alpha: any other pre-release tag is replaced",
        version: "1.0.0-rc",
        bump: "alpha",
        expected: "1.0.0-alpha",
      },
      { name: "1.0.0-alpha.2 + beta = 1.0.0-beta", version: "1.0.0-alpha.2", bump: "beta", expected: "1.0.0-beta" },
      {
        name: "1.0.0-rc.1.2 + rc = 1.0.0-rc: a pre-release that is more than a tag and a counter is replaced",
        version: "1.0.0-rc.1.2",
        bump: "rc",
        expected: "1.0.0-rc",
      },
      {
        name: "1.0.0-alpha.beta + alpha = 1.0.0-alpha: a dotted pre-release is a semantic version",
        version: "1.0.0-alpha.beta",
        bump: "alpha",
        expected: "1.0.0-alpha",
      },
      // final: drops the pre-release.
      { name: "1.0.0-rc.1 + final = 1.0.0", version: "1.0.0-rc.1", bump: "final", expected: "1.0.0" },
      {
        name: "final of a release leaves it as it is: 1.2.3 + final = 1.2.3",
        version: "1.2.3",
        bump: "final",
        expected: "1.2.3",
      },
      // A leading v is kept.
      { name: "v1.2.3 + patch = v1.2.4: a leading v is kept", version: "v1.2.3", bump: "patch", expected: "v1.2.4" },
      { name: "v1.0.0-rc + rc = v1.0.0-rc.1", version: "v1.0.0-rc", bump: "rc", expected: "v1.0.0-rc.1" },
      { name: "v2.0.0-beta.4 + final = v2.0.0", version: "v2.0.0-beta.4", bump: "final", expected: "v2.0.0" },
      // Build metadata (shipctl.md: dropped). Fixed with these tests: such versions failed the run.
      {
        name: "1.2.3+build.7 + patch = 1.2.4: build metadata is dropped",
        version: "1.2.3+build.7",
        bump: "patch",
        expected: "1.2.4",
      },
      {
        name: "1.0.0-rc.1+sha.abc + rc = 1.0.0-rc.2",
        version: "1.0.0-rc.1+sha.abc",
        bump: "rc",
        expected: "1.0.0-rc.2",
      },
      { name: "1.0.0+20240101 + final = 1.0.0", version: "1.0.0+20240101", bump: "final", expected: "1.0.0" },
      // Not in the docs: spaces around the version (a seed written with them) are ignored.
      { name: "spaces around the version are ignored", version: " 1.2.3\n", bump: "patch", expected: "1.2.4" },
      // A version that is not semantic ends the run failure: no result.
      { name: "1.2 is not a semantic version", version: "1.2", bump: "patch", expected: undefined },
      { name: "1.2.3.4 is not a semantic version", version: "1.2.3.4", bump: "patch", expected: undefined },
      { name: "latest is not a semantic version", version: "latest", bump: "minor", expected: undefined },
      { name: "an empty name is not a semantic version", version: "", bump: "minor", expected: undefined },
      {
        name: "1.2.3- (an empty pre-release) is not a semantic version",
        version: "1.2.3-",
        bump: "rc",
        expected: undefined,
      },
      {
        name: "1.2.3+ (empty build metadata) is not a semantic version",
        version: "1.2.3+",
        bump: "patch",
        expected: undefined,
      },
      { name: "a v that is not leading is no version: 1.v2.3", version: "1.v2.3", bump: "patch", expected: undefined },
    ]),
  )("%s", (_name, c) => {
    expect(bumpVersion(c.version, c.bump)).toBe(c.expected);
  });
});

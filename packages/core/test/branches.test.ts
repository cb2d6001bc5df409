import { describe, expect, it } from "vitest";
import { branchSelected, buildsOnCommit, readBranchFilter } from "../src/index.js";

// Which branches of a gitRepo make versions (shippable.md §4.1, docs/language.md "gitRepo").
describe("readBranchFilter and branchSelected", () => {
  it.each([
    // definition                                        branch          default  selected
    [{}, "main", "main", true],
    [{}, "dev", "main", false],
    [{ branch: "dev" }, "dev", "main", true],
    [{ branch: "dev" }, "main", "main", false],
    [{ branch: "dev", branches: { only: ["main"] } }, "dev", "main", true],
    [{ branches: { only: ["main", "release/*"] } }, "release/1.2", "main", true],
    [{ branches: { only: ["main", "release/*"] } }, "feature/x", "main", false],
    [{ branches: { except: ["wip-*"] } }, "feature/x", "main", true],
    [{ branches: { except: ["wip-*"] } }, "wip-1", "main", false],
    [{ branches: { only: ["*"], except: ["gh-pages"] } }, "gh-pages", "main", false],
    [{ branches: { only: "main" } }, "main", "dev", true],
    [{ branches: { only: ["a.b"] } }, "aXb", "main", false],
  ])("%j selects %s (default %s): %s", (data, branch, defaultBranch, selected) => {
    expect(branchSelected(readBranchFilter(data), branch, defaultBranch)).toBe(selected);
  });
});

describe("buildsOnCommit", () => {
  it.each([
    [{}, true],
    [{ buildOnCommit: true }, true],
    [{ buildOnCommit: false }, false],
    [{ buildOnCommit: "false" }, false],
  ])("%j: %s", (data, builds) => {
    expect(buildsOnCommit(data)).toBe(builds);
  });
});

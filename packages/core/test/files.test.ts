import { describe, expect, it } from "vitest";
import { changesOnlyPipelineFiles } from "../src/index.js";

// A gitRepo commit that only edits the line's own pipeline files triggers nothing
// (docs/semantics.md, "Versions").
describe("changesOnlyPipelineFiles", () => {
  it.each([
    [["shippable.yml"], true],
    [["ci/deploy.shippable.yml", "causeway.yml"], true],
    [["shippable.resources.yml", "shippable.jobs.yml", "shippable.triggers.yml"], true],
    [["lines/shippable.templates.yml"], true],
    [["shippable.yml", "src/app.ts"], false],
    [["README.md"], false],
    [["shippable.yml.example"], false],
    [["app.yaml"], false],
    [[], false],
  ])("%j: %s", (paths, only) => {
    expect(changesOnlyPipelineFiles(paths)).toBe(only);
  });
});

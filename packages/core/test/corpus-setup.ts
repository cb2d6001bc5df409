import { statSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { DEFAULT_EXTERNAL_CORPUS, locateCorpus } from "./corpus-location.js";

/**
 * vitest's global setup: decides once where the external corpus is, says so in one line when
 * its tests will not run, and hands the decision to the test files (`inject("externalCorpus")`).
 */
export default function setup(project: TestProject): void {
  const location = locateCorpus({
    env: process.env,
    cwd: process.cwd(),
    defaultDir: DEFAULT_EXTERNAL_CORPUS,
    isDirectory: (dir) => statSync(dir, { throwIfNoEntry: false })?.isDirectory() ?? false,
  });
  if (location.kind === "skip") console.log(`corpus: ${location.reason}`);
  if (location.kind === "missing") console.error(`corpus: ${location.reason}`);
  project.provide("externalCorpus", location);
}

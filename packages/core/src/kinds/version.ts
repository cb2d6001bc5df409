import { defineKind } from "./kind.js";

/** `version`: a semantic version, the base that `release` jobs bump (shippable.md §4.15). */
export const versionKind = defineKind({
  type: "version",
  holds: "a semantic version as `versionName`",
  versionsFrom: "YAML edits (reset the seed); `OUT` from a job",
  releaseBase: true,
});

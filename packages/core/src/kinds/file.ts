import { defineKind } from "./kind.js";

/** `file`: a URL or artifact path with a label (shippable.md §4.6). */
export const fileKind = defineKind({
  type: "file",
  holds: "a URL or path as `sourceName`, a label as `versionName`",
  versionsFrom: "`OUT` from a job",
});

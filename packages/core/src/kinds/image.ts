import { defineKind } from "./kind.js";

/** `image`: a container image and tag (shippable.md §4.5). */
export const imageKind = defineKind({
  type: "image",
  holds: "a tag as `versionName`, the repository as `sourceName`",
  versionsFrom: "`OUT` from a job (a new tag)",
});

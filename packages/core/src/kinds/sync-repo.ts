import { REPO_ORIGIN_KEYS } from "./git-repo.js";
import { defineKind } from "./kind.js";

/** `syncRepo` (system): kept as opaque configuration; a repository's commit data travels as a gitRepo's does. */
export const syncRepoKind = defineKind({
  type: "syncRepo",
  holds: "its definition data, as written",
  versionsFrom: "YAML edits (do not trigger); `OUT` from a job",
  originKeys: REPO_ORIGIN_KEYS,
});

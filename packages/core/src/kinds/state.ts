import { defineKind } from "./kind.js";

/** `state`: shared, versioned files; never triggers, so it may close cycles (shippable.md §4.16). */
export const stateKind = defineKind({
  type: "state",
  holds: "files (the archive of `OUT/<name>/state/`), named after the archive's SHA, and key/values",
  versionsFrom: "`OUT` from a job; never triggers",
  jobSees: "the version's files in `IN/<name>/state/`; the files put in `OUT/<name>/state/` make the next version",
  versionsTrigger: false,
  outFiles: true,
  inAndOutOfOneJob: true,
});

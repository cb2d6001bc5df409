import { defineKind } from "./kind.js";

/** `cliConfig` (provider-tied): opaque, versioned configuration, exposed as environment variables. */
export const cliConfigKind = defineKind({
  type: "cliConfig",
  holds: "its definition data, as written",
  versionsFrom: "YAML edits (do not trigger); `OUT` from a job",
});

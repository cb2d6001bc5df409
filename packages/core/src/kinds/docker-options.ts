import { defineKind } from "./kind.js";

/** `dockerOptions` (provider-tied): opaque, versioned configuration, exposed as environment variables. */
export const dockerOptionsKind = defineKind({
  type: "dockerOptions",
  holds: "its definition data, as written",
  versionsFrom: "YAML edits (do not trigger); `OUT` from a job",
});

import { defineKind } from "./kind.js";

/** `cluster` (provider-tied): opaque, versioned configuration, exposed as environment variables. */
export const clusterKind = defineKind({
  type: "cluster",
  holds: "its definition data, as written",
  versionsFrom: "YAML edits (do not trigger); `OUT` from a job",
});

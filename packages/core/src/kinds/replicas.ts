import { defineKind } from "./kind.js";

/** `replicas` (provider-tied): opaque, versioned configuration, exposed as environment variables. */
export const replicasKind = defineKind({
  type: "replicas",
  holds: "its definition data, as written",
  versionsFrom: "YAML edits (do not trigger); `OUT` from a job",
});

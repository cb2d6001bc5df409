import { defineKind } from "./kind.js";

/** `loadBalancer` (provider-tied): opaque, versioned configuration, exposed as environment variables. */
export const loadBalancerKind = defineKind({
  type: "loadBalancer",
  holds: "its definition data, as written",
  versionsFrom: "YAML edits (do not trigger); `OUT` from a job",
});

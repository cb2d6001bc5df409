import { defineKind } from "./kind.js";

/** `integration`: a stored credential exposed to jobs (shippable.md §4.4). */
export const integrationKind = defineKind({
  type: "integration",
  holds: "no versioned body: `integration:` names the credential",
  versionsFrom: "practically static",
});

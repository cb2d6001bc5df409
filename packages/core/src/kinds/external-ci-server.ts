import { defineKind } from "./kind.js";

/** `externalCIServer`: the anchor of `externalCI` jobs (shippable.md §4.18). */
export const externalCIServerKind = defineKind({
  type: "externalCIServer",
  holds: "nothing of its own",
  versionsFrom: "static",
});

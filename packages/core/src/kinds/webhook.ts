import { defineKind } from "./kind.js";

/** `webhook`: an inbound, authenticated HTTP POST (shippable.md §4.17). */
export const webhookKind = defineKind({
  type: "webhook",
  holds: "the payload of an authorised POST",
  versionsFrom: "each authorised POST, the payload stored in the version (not yet: no endpoint)",
});

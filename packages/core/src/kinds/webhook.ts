import { defineKind } from "./kind.js";

/** `webhook`: an inbound, authenticated HTTP POST (shippable.md §4.17). */
export const webhookKind = defineKind({
  type: "webhook",
  holds: "the payload of an authorised POST",
  versionsFrom:
    "each authenticated `POST /hooks/<name>`, once per delivery id; the payload and headers stored in the version",
});

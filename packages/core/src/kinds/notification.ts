import { defineKind } from "./kind.js";

/** `notification`: where hooks send notifications (shippable.md §4.12). */
export const notificationKind = defineKind({
  type: "notification",
  holds: "`method` and `recipients`",
  versionsFrom: "static; used by `NOTIFY`",
  jobSees: "nothing more; hooks name it in `NOTIFY`, scripts in `shipctl notify`",
  notifyTarget: true,
});

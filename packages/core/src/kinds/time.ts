import { defineKind } from "./kind.js";

/** `time`: a cron schedule in UTC (shippable.md §4.13). */
export const timeKind = defineKind({
  type: "time",
  holds: "the schedule (`interval`, 5-field cron; `timeZone`) and the tick it was made for",
  versionsFrom: "each tick, once; the latest tick missed while the server was down, once at start",
});

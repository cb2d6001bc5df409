import { defineKind } from "./kind.js";

/** `time`: a cron schedule in UTC (shippable.md §4.13). */
export const timeKind = defineKind({
  type: "time",
  holds: "the schedule (`interval`, 5-field cron)",
  versionsFrom: "each tick (not yet: no ticks are produced)",
});

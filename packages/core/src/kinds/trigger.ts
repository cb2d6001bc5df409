import { defineKind } from "./kind.js";

/** `trigger`: a manual "poke" by commit; the only kind whose YAML edit triggers (shippable.md §4.14). */
export const triggerKind = defineKind({
  type: "trigger",
  holds: "any keys, usually `counter`",
  versionsFrom: "YAML edits (**do** trigger); `OUT` from a job",
  yamlEditTriggers: true,
});

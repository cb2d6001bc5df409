import { ENGINE_EVENT_TYPES, EXPLAIN_OUTCOMES, RUN_STATUSES, TRIGGER_KINDS } from "@causeway/core";
import { EventSchema, ExplainSchema, RunStatusSchema, RunTriggerSchema } from "@causeway/protocol";
import { describe, expect, it } from "vitest";

// protocol imports nothing internal, so it spells core's lists again; the server maps one to the
// other, and this keeps each of protocol's lists equal to the one core exports.
describe("protocol and core agree", () => {
  it.each([
    ["run statuses", RunStatusSchema.options, RUN_STATUSES],
    ["trigger kinds", RunTriggerSchema.shape.kind.options, TRIGGER_KINDS],
    ["explain outcomes", ExplainSchema.shape.outcome.options, EXPLAIN_OUTCOMES],
    ["event types", EventSchema.shape.type.options, ENGINE_EVENT_TYPES],
  ] as const)("on the %s", (_what, protocol, core) => {
    expect(core.length).toBeGreaterThan(0);
    expect([...protocol]).toEqual([...core]);
  });
});

import { FINAL_STATUSES, RUN_STATUSES } from "@causeway/core";
import { RunStatusSchema, RunTriggerSchema } from "@causeway/protocol";
import { describe, expect, it } from "vitest";

// protocol imports nothing internal, so it spells the run statuses and trigger kinds again;
// the server maps one to the other, and this keeps the two lists the same.
describe("protocol and core agree", () => {
  it("on the run statuses", () => {
    expect([...RunStatusSchema.options]).toEqual([...RUN_STATUSES]);
    for (const s of FINAL_STATUSES) expect(RunStatusSchema.options).toContain(s);
  });

  it("on the trigger kinds", () => {
    expect([...RunTriggerSchema.shape.kind.options].sort()).toEqual(
      ["manual", "version", "upstream", "out", "rerun", "retry", "yaml"].sort(),
    );
  });
});

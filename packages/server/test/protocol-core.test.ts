import {
  APPLY_SOURCES,
  AUDIT_ACTIONS,
  ENGINE_EVENT_TYPES,
  ROLES,
  TOKEN_KINDS,
  EXPLAIN_OUTCOMES,
  REFUSING_CODES,
  RUN_STATUSES,
  TRIGGER_KINDS,
} from "@causeway/core";
import {
  ApplyRecordSchema,
  AuditEventSchema,
  EVENT_TYPES,
  ExplainSchema,
  RunStatusSchema,
  RoleSchema,
  RunTriggerSchema,
  TokenJsonSchema,
  UNREAD_CODES,
} from "@causeway/protocol";
import { describe, expect, it } from "vitest";

// protocol imports nothing internal, so it spells core's lists again; the server maps one to the
// other, and this keeps each of protocol's lists equal to the one core exports.
describe("protocol and core agree", () => {
  it.each([
    ["run statuses", RunStatusSchema.options, RUN_STATUSES],
    ["trigger kinds", RunTriggerSchema.shape.kind.options, TRIGGER_KINDS],
    ["explain outcomes", ExplainSchema.shape.outcome.options, EXPLAIN_OUTCOMES],
    ["event types", EVENT_TYPES, ENGINE_EVENT_TYPES],
    ["apply sources", ApplyRecordSchema.shape.source.options, APPLY_SOURCES],
    ["audit actions", AuditEventSchema.shape.action.options, AUDIT_ACTIONS],
    ["token roles", RoleSchema.options, ROLES],
    ["token kinds", TokenJsonSchema.shape.kind.options, TOKEN_KINDS],
  ] as const)("on the %s", (_what, protocol, core) => {
    expect(core.length).toBeGreaterThan(0);
    expect([...protocol]).toEqual([...core]);
  });
});

describe("a client's unread files", () => {
  it("are refused with codes of the loader's refusals", () => {
    for (const code of UNREAD_CODES) expect(REFUSING_CODES).toContain(code);
  });
});

import type { Kysely, Migration } from "kysely";
import { withId } from "./columns.js";

/**
 * Approval gates and the audit trail (issue 10). `approvals`: the gate of a run waiting for
 * approval, one row per gated run (the job's `requiresApproval` as it was when the run was
 * created, the deadline, the state); `approval_decisions`: who approved or rejected it, once per
 * person (the primary key); `audit_events`: who did what to what, kept forever (never cut).
 * Standalone on 0001: no foreign key, so an audit entry outlives what it names.
 */
export const approvalsAudit: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("approvals")
      .addColumn("run_id", "integer", (c) => c.primaryKey())
      .addColumn("job", "text", (c) => c.notNull())
      .addColumn("gate", "text", (c) => c.notNull())
      .addColumn("deadline", "text", (c) => c.notNull())
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();
    // The timer's question: the earliest deadline of the gates still pending.
    await db.schema.createIndex("approvals_pending").on("approvals").columns(["state", "deadline"]).execute();
    await db.schema
      .createTable("approval_decisions")
      .addColumn("run_id", "integer", (c) => c.notNull())
      .addColumn("by_name", "text", (c) => c.notNull())
      .addColumn("verdict", "text", (c) => c.notNull())
      .addColumn("comment", "text")
      .addColumn("at", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("approval_decisions_pk", ["run_id", "by_name"])
      .execute();
    await withId(db, db.schema.createTable("audit_events"))
      .addColumn("at", "text", (c) => c.notNull())
      .addColumn("actor", "text", (c) => c.notNull())
      .addColumn("action", "text", (c) => c.notNull())
      .addColumn("subject", "text", (c) => c.notNull())
      .addColumn("detail", "text", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("audit_events_action").on("audit_events").columns(["action", "id"]).execute();
    await db.schema.createIndex("audit_events_subject").on("audit_events").columns(["subject", "id"]).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("audit_events").execute();
    await db.schema.dropTable("approval_decisions").execute();
    await db.schema.dropTable("approvals").execute();
  },
};

import type { Kysely, Migration } from "kysely";
import { withId } from "./columns.js";

/** The first schema: objects, pins, versions, runs, explains, events. */
export const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await withId(db, db.schema.createTable("objects"))
      .addColumn("name", "text", (c) => c.notNull().unique())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("type", "text", (c) => c.notNull())
      .addColumn("definition", "text", (c) => c.notNull())
      .addColumn("consistent", "integer", (c) => c.notNull())
      .addColumn("paused", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("deleted_at", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("pins")
      .addColumn("job", "text", (c) => c.notNull())
      .addColumn("input", "text", (c) => c.notNull())
      .addColumn("version_number", "integer", (c) => c.notNull())
      .addPrimaryKeyConstraint("pins_pk", ["job", "input"])
      .execute();

    await withId(db, db.schema.createTable("runs"))
      .addColumn("job", "text", (c) => c.notNull())
      .addColumn("number", "integer", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("status_reason", "text")
      .addColumn("trigger", "text", (c) => c.notNull())
      .addColumn("flow", "text", (c) => c.notNull())
      .addColumn("inputs", "text", (c) => c.notNull())
      .addColumn("params", "text", (c) => c.notNull())
      .addColumn("priority", "integer", (c) => c.notNull())
      .addColumn("attempt", "integer", (c) => c.notNull())
      .addColumn("rerun_of", "integer", (c) => c.references("runs.id"))
      .addColumn("exit_code", "integer")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("started_at", "text")
      .addColumn("finished_at", "text")
      .addUniqueConstraint("runs_job_number_uq", ["job", "number"])
      .execute();
    await db.schema.createIndex("runs_job_id_ix").on("runs").columns(["job", "id"]).execute();
    // "The latest successful run of a job" (input resolution): without it SQLite walks every
    // run of the status, or every run of the job.
    await db.schema.createIndex("runs_job_status_id_ix").on("runs").columns(["job", "status", "id"]).execute();
    await db.schema.createIndex("runs_flow_id_ix").on("runs").columns(["flow", "id"]).execute();
    await db.schema.createIndex("runs_status_ix").on("runs").column("status").execute();

    await withId(db, db.schema.createTable("versions"))
      .addColumn("object_name", "text", (c) => c.notNull())
      .addColumn("version_number", "integer", (c) => c.notNull())
      .addColumn("version_name", "text", (c) => c.notNull())
      .addColumn("property_bag", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("run_id", "integer", (c) => c.references("runs.id"))
      .addColumn("state_sha", "text")
      .addColumn("flow_id", "text")
      // Also the index of latest-by-object (ORDER BY version_number DESC LIMIT 1).
      .addUniqueConstraint("versions_object_number_uq", ["object_name", "version_number"])
      .execute();
    await db.schema
      .createIndex("versions_object_name_ix")
      .on("versions")
      .columns(["object_name", "version_name", "version_number"])
      .execute();
    await db.schema.createIndex("versions_run_ix").on("versions").column("run_id").execute();

    await withId(db, db.schema.createTable("explains"))
      .addColumn("job", "text", (c) => c.notNull())
      .addColumn("at", "text", (c) => c.notNull())
      .addColumn("event", "text", (c) => c.notNull())
      .addColumn("outcome", "text", (c) => c.notNull())
      .addColumn("run_id", "integer", (c) => c.references("runs.id"))
      .addColumn("message", "text", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("explains_job_id_ix").on("explains").columns(["job", "id"]).execute();

    await withId(db, db.schema.createTable("events"))
      .addColumn("at", "text", (c) => c.notNull())
      .addColumn("type", "text", (c) => c.notNull())
      .addColumn("payload", "text", (c) => c.notNull())
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of ["events", "explains", "versions", "runs", "pins", "objects"]) {
      await db.schema.dropTable(table).execute();
    }
  },
};

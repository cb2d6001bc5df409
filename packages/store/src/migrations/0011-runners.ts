import type { Kysely, Migration } from "kysely";
import { withId } from "./columns.js";

/**
 * Remote runners (issue 11, design §5): `runner_registrations` (single-use registration tokens,
 * by hash), `runners` (each with the hash of its credential, its pool, labels, capacity, state
 * and current session) and `run_leases` (the run a remote runner holds: its runner, epoch, the
 * hash of the attempt's job token and the console bytes received). A lease row lives only while
 * its run executes remotely: the table stays small. Standalone on 0001.
 */
export const runners: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await withId(db, db.schema.createTable("runner_registrations"))
      .addColumn("hash", "text", (c) => c.notNull().unique())
      .addColumn("pool", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("expires_at", "text", (c) => c.notNull())
      .addColumn("used_at", "text")
      .execute();
    await withId(db, db.schema.createTable("runners"))
      .addColumn("name", "text", (c) => c.notNull().unique())
      .addColumn("pool", "text", (c) => c.notNull())
      .addColumn("labels", "text", (c) => c.notNull())
      .addColumn("capacity", "integer", (c) => c.notNull())
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("credential_hash", "text", (c) => c.notNull().unique())
      .addColumn("session", "text")
      .addColumn("registered_at", "text", (c) => c.notNull())
      .addColumn("last_seen_at", "text")
      .execute();
    await db.schema
      .createTable("run_leases")
      .addColumn("run_id", "integer", (c) => c.primaryKey())
      .addColumn("runner_id", "integer", (c) => c.notNull())
      .addColumn("epoch", "integer", (c) => c.notNull())
      .addColumn("token_hash", "text", (c) => c.notNull())
      .addColumn("log_offset", "integer", (c) => c.notNull())
      .addColumn("claimed_at", "text", (c) => c.notNull())
      .addColumn("started_at", "text")
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("run_leases").execute();
    await db.schema.dropTable("runners").execute();
    await db.schema.dropTable("runner_registrations").execute();
  },
};

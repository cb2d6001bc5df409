import type { Kysely, Migration } from "kysely";

/**
 * `version_keys`: the delivery keys of versions created from outside (a webhook's delivery id, a
 * cron tick's time, a commit polled), one row per (resource, key). A version source that hands
 * the same key twice (a sender retrying, a restart in the middle, two pollers) gets the first
 * version back and creates none: the row is written in the transaction that creates the version,
 * so either both exist or neither does.
 */
export const versionDedupe: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("version_keys")
      .addColumn("object_name", "text", (c) => c.notNull())
      .addColumn("key", "text", (c) => c.notNull())
      .addColumn("version_id", "integer", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("version_keys_pk", ["object_name", "key"])
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("version_keys").execute();
  },
};

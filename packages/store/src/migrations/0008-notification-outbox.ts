import type { Kysely, Migration } from "kysely";

/**
 * `notifications`: the notification outbox. The engine inserts a pending delivery in the
 * transaction of the event that causes it (a run's start or end, a cancel, `shipctl notify`);
 * the server's outbox worker sends it and records the outcome. Standalone on 0001: `run_id` is
 * not a foreign key, so the outbox never holds back what the runs table does.
 */
export const notificationOutbox: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("notifications")
      .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("run_id", "integer")
      .addColumn("job", "text", (c) => c.notNull())
      .addColumn("event", "text", (c) => c.notNull())
      .addColumn("resource", "text", (c) => c.notNull())
      .addColumn("method", "text")
      .addColumn("target", "text", (c) => c.notNull())
      .addColumn("payload", "text", (c) => c.notNull())
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("next_attempt_at", "text")
      .addColumn("last_error", "text")
      .addColumn("delivered_at", "text")
      .execute();
    // The worker's question: the pending deliveries, by due time.
    await db.schema
      .createIndex("notifications_due")
      .on("notifications")
      .columns(["state", "next_attempt_at"])
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("notifications").execute();
  },
};

import type { Kysely, Migration } from "kysely";

/**
 * `webhook_refusals`: the deliveries the webhook endpoints refused (no or wrong credentials, no
 * key to check them against, a body over the cap), newest kept, for `causeway webhooks`. Standalone
 * on 0001: it references no other table, so a refusal outlives the resource it named.
 */
export const webhookRefusals: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("webhook_refusals")
      .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
      .addColumn("at", "text", (c) => c.notNull())
      .addColumn("resource", "text", (c) => c.notNull())
      .addColumn("status", "integer", (c) => c.notNull())
      .addColumn("code", "text", (c) => c.notNull())
      .addColumn("reason", "text", (c) => c.notNull())
      .addColumn("delivery", "text")
      .addColumn("remote", "text")
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("webhook_refusals").execute();
  },
};

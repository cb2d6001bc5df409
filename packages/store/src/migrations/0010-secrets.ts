import type { Kysely, Migration } from "kysely";

/**
 * `secrets`: the integration store. One row per secret (an integration: a token, an SSH key,
 * SMTP credentials); `fields` is JSON text of `{field: {keyId, iv, tag, data}}`, every value
 * encrypted with AES-256-GCM under a key kept outside the database (`secret.key`). Standalone on
 * 0001.
 */
export const secrets: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("secrets")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("fields", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("secrets").execute();
  },
};

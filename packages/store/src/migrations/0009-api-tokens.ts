import { sql, type Kysely, type Migration } from "kysely";
import { withId } from "./columns.js";

/**
 * `api_tokens` (issue 11): the API tokens with their roles. Only the SHA-256 of a secret is
 * stored (`hash`, unique: the lookup of every request); the secret is shown once when made.
 * A name is unique among the tokens that are not revoked (a partial index), so a revoked
 * token's row stays for the record and its name can be given again. Standalone on 0001.
 */
export const apiTokens: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await withId(db, db.schema.createTable("api_tokens"))
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("role", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("hash", "text", (c) => c.notNull().unique())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("expires_at", "text")
      .addColumn("last_used_at", "text")
      .addColumn("revoked_at", "text")
      .execute();
    await db.schema
      .createIndex("api_tokens_live_name")
      .on("api_tokens")
      .column("name")
      .unique()
      .where(sql.ref("revoked_at"), "is", null)
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("api_tokens").execute();
  },
};

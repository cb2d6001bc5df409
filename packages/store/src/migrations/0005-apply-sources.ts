import type { Kysely, Migration } from "kysely";

/**
 * `apply_sources`: the sources of the line each apply read (JSON text of `AppliedSource[]`:
 * name, directory or git URL, branch and commit), so the apply history says which commit of
 * which repository an apply came from. A table of its own, keyed by the apply's id, rather than
 * a column of `applies`: a migration stands on 0001 alone (numbers are handed out ahead), and
 * `applies` comes from 0002. Trimmed with the history.
 */
export const applySources: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("apply_sources")
      .addColumn("apply_id", "integer", (c) => c.primaryKey())
      .addColumn("sources", "text", (c) => c.notNull())
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("apply_sources").execute();
  },
};

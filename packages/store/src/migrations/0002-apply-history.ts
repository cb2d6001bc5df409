import type { Kysely, Migration } from "kysely";
import { withId } from "./columns.js";

/**
 * The apply history: one row per apply of a line (who asked, the files with their status, what
 * changed and what was kept, the errors in brief). Bounded: the store keeps the newest entries.
 */
export const applyHistory: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await withId(db, db.schema.createTable("applies"))
      .addColumn("at", "text", (c) => c.notNull())
      .addColumn("source", "text", (c) => c.notNull())
      .addColumn("by_name", "text", (c) => c.notNull())
      .addColumn("dir", "text")
      .addColumn("files", "text", (c) => c.notNull())
      .addColumn("added", "text", (c) => c.notNull())
      .addColumn("changed", "text", (c) => c.notNull())
      .addColumn("removed", "text", (c) => c.notNull())
      .addColumn("kept", "text", (c) => c.notNull())
      .addColumn("errors", "integer", (c) => c.notNull())
      .addColumn("warnings", "integer", (c) => c.notNull())
      .addColumn("problems", "text", (c) => c.notNull())
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("applies").execute();
  },
};

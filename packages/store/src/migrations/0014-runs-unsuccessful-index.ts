import { sql, type Kysely, type Migration } from "kysely";

/**
 * `runs_unsuccessful_ix` replaces `runs_status_ix`: the status index holds only the runs that did
 * not succeed (the active ones, which the engine reads at start, and the failed ones a user
 * filters for), not every successful run ever made. Each status change of a run rewrote two
 * pages of the full index (its old and new status's), on every run's path; a successful run
 * now leaves this small index, and a long history no longer grows it. Queries use it only
 * with the literal term `status != 'success'` (`listRunsQuery`): SQLite picks a partial index
 * only for a query whose WHERE holds the index's condition. Stands on 0001 (the `runs` table).
 */
export const runsUnsuccessfulIndex: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex("runs_status_ix").ifExists().execute();
    await sql`CREATE INDEX runs_unsuccessful_ix ON runs (status) WHERE status != 'success'`.execute(db);
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex("runs_unsuccessful_ix").execute();
    await db.schema.createIndex("runs_status_ix").on("runs").column("status").execute();
  },
};

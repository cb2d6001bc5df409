import { sql, type Kysely, type Migration } from "kysely";

/**
 * `runs_secret_params_ix`: the runs that have secret parameters (a partial index). At every
 * open the store lists the keys that sealed stored values, secret run parameters included; without
 * it that read scanned every run ever made, so a server with a long history started slower and
 * with its page cache full of old runs. Stands on 0001 (the `runs` table).
 */
export const runsSecretParamsIndex: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`CREATE INDEX runs_secret_params_ix ON runs (id) WHERE secret_params != '[]'`.execute(db);
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex("runs_secret_params_ix").execute();
  },
};

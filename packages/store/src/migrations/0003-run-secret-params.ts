import type { Kysely, Migration } from "kysely";

/**
 * `runs.secret_params`: the names of a run's parameters that were secret when it was created
 * (JSON array of strings). Recorded with the run so that redefining or removing a job's
 * parameter never makes an old run's value public. Runs from before this migration get `[]`:
 * for them, only the job's current definition says what is secret.
 */
export const runSecretParams: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable("runs")
      .addColumn("secret_params", "text", (c) => c.notNull().defaultTo("[]"))
      .execute();
  },
};

import type { Kysely, Migration } from "kysely";

/**
 * `run_leases.log_length`: the run log's length when the lease's `log_offset` was stored, in the
 * same commit. After a restart the log is cut back to it: bytes appended after the last
 * recorded offset (the server died between the append and the commit) are uploaded again by
 * the runner, and must not be in the log twice. Null on leases from before it (no cut). Stands
 * on 0011, which created the table and shipped before it.
 */
export const leaseLogLength: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable("run_leases").addColumn("log_length", "integer").execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable("run_leases").dropColumn("log_length").execute();
  },
};

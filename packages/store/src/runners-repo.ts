import {
  CausewayError,
  type NewRunner,
  type RunLease,
  type RunnerRecord,
  type RunnerRegistration,
  type RunnerState,
} from "@causeway/core";
import type { Kysely, Selectable } from "kysely";
import type { CausewayDatabase, RunnersTable } from "./schema.js";

/**
 * The runners' rows of the SQLite store (migration 0011), for the store's RunnerStore (see
 * sqlite-store.ts, which runs these inside its queue and transactions). On the remote path a
 * claim costs one write and an upload one more; the embedded runner writes none of them.
 */
export class RunnersRepo {
  readonly #db: Kysely<CausewayDatabase>;

  constructor(db: Kysely<CausewayDatabase>) {
    this.#db = db;
  }

  async insertRegistration(registration: Omit<RunnerRegistration, "id" | "usedAt">): Promise<RunnerRegistration> {
    const row = await this.#db
      .insertInto("runner_registrations")
      .values({
        hash: registration.hash,
        pool: registration.pool,
        created_at: registration.createdAt,
        created_by: registration.createdBy,
        expires_at: registration.expiresAt,
        used_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return {
      id: row.id,
      hash: row.hash,
      pool: row.pool,
      createdAt: row.created_at,
      createdBy: row.created_by,
      expiresAt: row.expires_at,
      usedAt: row.used_at,
    };
  }

  /** Uses the registration and inserts the runner (the caller's transaction). */
  async register(hash: string, runner: NewRunner): Promise<RunnerRecord> {
    const registration = await this.#db
      .selectFrom("runner_registrations")
      .selectAll()
      .where("hash", "=", hash)
      .executeTakeFirst();
    if (
      registration === undefined ||
      registration.used_at !== null ||
      Date.parse(registration.expires_at) <= Date.parse(runner.at)
    ) {
      const why =
        registration === undefined
          ? "is not known"
          : registration.used_at !== null
            ? "was used already"
            : "has expired";
      throw new CausewayError("RUNNER_REGISTRATION_INVALID", `the registration token ${why}`, {
        hint: "an admin makes a new one: causeway runner-token create",
      });
    }
    if (registration.pool !== null && registration.pool !== runner.pool) {
      throw new CausewayError(
        "RUNNER_REGISTRATION_INVALID",
        `the registration token is for pool ${registration.pool}, not ${runner.pool}`,
        { hint: `start the runner with --pool ${registration.pool}, or without --pool` },
      );
    }
    const taken = await this.#db.selectFrom("runners").select("id").where("name", "=", runner.name).executeTakeFirst();
    if (taken !== undefined) {
      throw new CausewayError("RUNNER_EXISTS", `a runner named ${runner.name} is registered already`, {
        hint: "start this runner with --name and another name, or with the work directory that holds its credential",
      });
    }
    await this.#db
      .updateTable("runner_registrations")
      .set({ used_at: runner.at })
      .where("id", "=", registration.id)
      .execute();
    const row = await this.#db
      .insertInto("runners")
      .values({
        name: runner.name,
        pool: runner.pool,
        labels: JSON.stringify(runner.labels),
        capacity: runner.capacity,
        state: "active",
        credential_hash: runner.credentialHash,
        session: null,
        registered_at: runner.at,
        last_seen_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRunner(row);
  }

  async byCredential(hash: string): Promise<RunnerRecord | undefined> {
    const row = await this.#db.selectFrom("runners").selectAll().where("credential_hash", "=", hash).executeTakeFirst();
    return row === undefined ? undefined : toRunner(row);
  }

  async list(): Promise<RunnerRecord[]> {
    const rows = await this.#db.selectFrom("runners").selectAll().orderBy("id").execute();
    return rows.map(toRunner);
  }

  async setState(name: string, state: RunnerState): Promise<RunnerRecord> {
    const row = await this.#db
      .updateTable("runners")
      .set({ state })
      .where("name", "=", name)
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) {
      throw new CausewayError("RUNNER_NOT_FOUND", `no runner named ${name}`, { hint: "causeway runners lists them" });
    }
    return toRunner(row);
  }

  async startSession(
    runnerId: number,
    session: string,
    capacity: number,
    labels: readonly string[],
    at: string,
  ): Promise<void> {
    await this.#db
      .updateTable("runners")
      .set({ session, capacity, labels: JSON.stringify(labels), last_seen_at: at })
      .where("id", "=", runnerId)
      .execute();
  }

  async touch(runnerId: number, at: string): Promise<void> {
    await this.#db.updateTable("runners").set({ last_seen_at: at }).where("id", "=", runnerId).execute();
  }

  async claimLease(runId: number, runnerId: number, tokenHash: string, at: string): Promise<number> {
    const row = await this.#db
      .insertInto("run_leases")
      .values({
        run_id: runId,
        runner_id: runnerId,
        epoch: 1,
        token_hash: tokenHash,
        log_offset: 0,
        log_length: 0,
        claimed_at: at,
      })
      .onConflict((oc) =>
        oc.column("run_id").doUpdateSet((eb) => ({
          runner_id: runnerId,
          epoch: eb("run_leases.epoch", "+", 1),
          token_hash: tokenHash,
          log_offset: 0,
          log_length: 0,
          claimed_at: at,
        })),
      )
      .returning("epoch")
      .executeTakeFirstOrThrow();
    return row.epoch;
  }

  async recordLogOffset(runId: number, offset: number, length: number | null): Promise<void> {
    await this.#db
      .updateTable("run_leases")
      .set({ log_offset: offset, log_length: length })
      .where("run_id", "=", runId)
      .execute();
  }

  async deleteLeases(runIds: readonly number[]): Promise<void> {
    if (runIds.length === 0) return;
    await this.#db.deleteFrom("run_leases").where("run_id", "in", runIds).execute();
  }

  async deleteStaleLeases(): Promise<void> {
    await this.#db
      .deleteFrom("run_leases")
      .where("run_id", "not in", (db) => db.selectFrom("runs").select("id").where("status", "=", "processing"))
      .execute();
  }

  async listLeases(): Promise<RunLease[]> {
    const rows = await this.#db.selectFrom("run_leases").selectAll().orderBy("run_id").execute();
    return rows.map((row) => ({
      runId: row.run_id,
      runnerId: row.runner_id,
      epoch: row.epoch,
      tokenHash: row.token_hash,
      logOffset: row.log_offset,
      logLength: row.log_length,
      claimedAt: row.claimed_at,
    }));
  }
}

function toRunner(row: Selectable<RunnersTable>): RunnerRecord {
  return {
    id: row.id,
    name: row.name,
    pool: row.pool,
    labels: JSON.parse(row.labels) as string[],
    capacity: row.capacity,
    state: row.state === "draining" ? "draining" : "active",
    credentialHash: row.credential_hash,
    session: row.session,
    registeredAt: row.registered_at,
    lastSeenAt: row.last_seen_at,
  };
}

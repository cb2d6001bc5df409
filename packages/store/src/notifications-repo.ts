import {
  CausewayError,
  type Clock,
  type NewNotification,
  type Notification,
  type NotificationPatch,
  type NotificationQuery,
} from "@causeway/core";
import type BetterSqlite3 from "better-sqlite3";
import type { Kysely } from "kysely";
import { toNotification } from "./mappers.js";
import { checkLimit } from "./query-limits.js";
import type { CausewayDatabase, NotificationRow } from "./schema.js";

type Statement = BetterSqlite3.Statement<[Record<string, unknown>]>;

/**
 * The notification outbox of the SQLite store (migration 0008), for SqliteRepo. A pending
 * delivery is inserted inside the transaction that finishes a run, so that insert is a prepared
 * statement; the outbox worker's reads and updates go through Kysely.
 */
export class NotificationsRepo {
  readonly #db: Kysely<CausewayDatabase>;
  readonly #clock: Clock;
  readonly #insert: Statement;

  constructor(db: Kysely<CausewayDatabase>, sqlite: BetterSqlite3.Database, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
    this.#insert = sqlite.prepare(
      `INSERT INTO notifications (created_at, run_id, job, event, resource, method, target, payload, state, attempts,
         next_attempt_at, last_error, delivered_at)
       VALUES (@created_at, @run_id, @job, @event, @resource, @method, @target, @payload, @state, @attempts,
         @next_attempt_at, @last_error, @delivered_at)`,
    );
  }

  insert(notification: NewNotification): Notification {
    const row: Omit<NotificationRow, "id"> = {
      created_at: this.#clock.now().toISOString(),
      run_id: notification.runId,
      job: notification.job,
      event: notification.event,
      resource: notification.resource,
      method: notification.method,
      target: notification.target,
      payload: JSON.stringify(notification.data),
      state: "pending",
      attempts: 0,
      next_attempt_at: notification.nextAttemptAt,
      last_error: null,
      delivered_at: null,
    };
    const { lastInsertRowid } = this.#insert.run({ ...row });
    return toNotification({ id: Number(lastInsertRowid), ...row });
  }

  async get(id: number): Promise<Notification | undefined> {
    const row = await this.#db.selectFrom("notifications").selectAll().where("id", "=", id).executeTakeFirst();
    return row === undefined ? undefined : toNotification(row);
  }

  async update(id: number, patch: NotificationPatch): Promise<Notification> {
    const set: Partial<Omit<NotificationRow, "id">> = {};
    if (patch.state !== undefined) set.state = patch.state;
    if (patch.attempts !== undefined) set.attempts = patch.attempts;
    if (patch.nextAttemptAt !== undefined) set.next_attempt_at = patch.nextAttemptAt;
    if (patch.lastError !== undefined) set.last_error = patch.lastError;
    if (patch.deliveredAt !== undefined) set.delivered_at = patch.deliveredAt;
    if (Object.keys(set).length > 0)
      await this.#db.updateTable("notifications").set(set).where("id", "=", id).execute();
    const updated = await this.get(id);
    if (updated === undefined) throw new CausewayError("NOTIFICATION_NOT_FOUND", `no notification delivery ${id}`);
    return updated;
  }

  async list(query: NotificationQuery = {}): Promise<Notification[]> {
    let q = this.#db.selectFrom("notifications").selectAll().orderBy("id", "desc");
    if (query.state !== undefined) q = q.where("state", "=", query.state);
    if (query.limit !== undefined) q = q.limit(checkLimit(query.limit));
    return (await q.execute()).map(toNotification);
  }

  async due(now: string, limit: number, exclude: readonly number[]): Promise<Notification[]> {
    let q = this.#db
      .selectFrom("notifications")
      .selectAll()
      .where("state", "=", "pending")
      .where("next_attempt_at", "<=", now)
      .orderBy("next_attempt_at")
      .orderBy("id")
      .limit(checkLimit(limit));
    if (exclude.length > 0) q = q.where("id", "not in", [...exclude]);
    return (await q.execute()).map(toNotification);
  }

  async nextDue(exclude: readonly number[]): Promise<string | undefined> {
    let q = this.#db
      .selectFrom("notifications")
      .select("next_attempt_at")
      .where("state", "=", "pending")
      .where("next_attempt_at", "is not", null)
      .orderBy("next_attempt_at")
      .limit(1);
    if (exclude.length > 0) q = q.where("id", "not in", [...exclude]);
    const row = await q.executeTakeFirst();
    return row?.next_attempt_at ?? undefined;
  }
}

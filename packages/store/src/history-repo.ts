import {
  CausewayError,
  type ApplyRecord,
  type Clock,
  type NewApplyRecord,
  type NewWebhookRefusal,
  type WebhookRefusal,
} from "@causeway/core";
import type { Kysely } from "kysely";
import { toApply } from "./mappers.js";
import { checkLimit } from "./query-limits.js";
import type { ApplyRow, CausewayDatabase, WebhookRefusalRow } from "./schema.js";

/**
 * The records the store keeps a bounded number of, newest first, for SqliteRepo: the apply
 * history (migrations 0002, 0005) and the refused webhook deliveries (0006). Each insert drops
 * what is past the `keep` newest.
 */
export class HistoryRepo {
  readonly #db: Kysely<CausewayDatabase>;
  readonly #clock: Clock;

  constructor(db: Kysely<CausewayDatabase>, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
  }

  async insertApply(record: NewApplyRecord, keep: number): Promise<ApplyRecord> {
    checkKeep(keep, "the apply history");
    const row: Omit<ApplyRow, "id"> = {
      at: this.#clock.now().toISOString(),
      source: record.source,
      by_name: record.by,
      dir: record.dir,
      files: JSON.stringify(record.files),
      added: JSON.stringify(record.added),
      changed: JSON.stringify(record.changed),
      removed: JSON.stringify(record.removed),
      kept: JSON.stringify(record.kept),
      errors: record.errors,
      warnings: record.warnings,
      problems: JSON.stringify(record.problems),
    };
    const { insertId } = await this.#db.insertInto("applies").values(row).executeTakeFirstOrThrow();
    const id = Number(insertId);
    const sources = record.sources === undefined ? null : JSON.stringify(record.sources);
    if (sources !== null) await this.#db.insertInto("apply_sources").values({ apply_id: id, sources }).execute();
    const bound = await this.#oldestKept("applies", keep);
    if (bound !== undefined) {
      await this.#db.deleteFrom("applies").where("id", "<", bound).execute();
      await this.#db.deleteFrom("apply_sources").where("apply_id", "<", bound).execute();
    }
    return toApply({ id, ...row, sources });
  }

  async listApplies(limit?: number): Promise<ApplyRecord[]> {
    let query = this.#db
      .selectFrom("applies")
      .leftJoin("apply_sources", "apply_sources.apply_id", "applies.id")
      .selectAll("applies")
      .select("apply_sources.sources")
      .orderBy("applies.id", "desc");
    if (limit !== undefined) query = query.limit(checkLimit(limit));
    return (await query.execute()).map(toApply);
  }

  async insertRefusal(refusal: NewWebhookRefusal, keep: number): Promise<WebhookRefusal> {
    checkKeep(keep, "the refused deliveries");
    const row: Omit<WebhookRefusalRow, "id"> = {
      at: this.#clock.now().toISOString(),
      resource: refusal.resource,
      status: refusal.status,
      code: refusal.code,
      reason: refusal.reason,
      delivery: refusal.delivery,
      remote: refusal.remote,
    };
    const { insertId } = await this.#db.insertInto("webhook_refusals").values(row).executeTakeFirstOrThrow();
    const bound = await this.#oldestKept("webhook_refusals", keep);
    if (bound !== undefined) await this.#db.deleteFrom("webhook_refusals").where("id", "<", bound).execute();
    return { id: Number(insertId), ...row };
  }

  async listRefusals(limit?: number): Promise<WebhookRefusal[]> {
    let query = this.#db.selectFrom("webhook_refusals").selectAll().orderBy("id", "desc");
    if (limit !== undefined) query = query.limit(checkLimit(limit));
    return (await query.execute()).map((row) => ({ ...row }));
  }

  /** The id of the oldest entry to keep, found by rank: ids only grow, but a rolled-back insert leaves a gap. */
  async #oldestKept(table: "applies" | "webhook_refusals", keep: number): Promise<number | undefined> {
    const bound = await this.#db
      .selectFrom(table)
      .select("id")
      .orderBy("id", "desc")
      .offset(keep - 1)
      .limit(1)
      .executeTakeFirst();
    return bound?.id;
  }
}

function checkKeep(keep: number, what: string): void {
  if (!Number.isSafeInteger(keep) || keep < 1) {
    throw new CausewayError("STORE_BAD_ARGUMENT", `${what} must keep at least 1 entry, not ${keep}`);
  }
}

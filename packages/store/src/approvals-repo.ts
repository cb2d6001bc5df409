import {
  type ApprovalDecision,
  type ApprovalRecord,
  type ApprovalState,
  type AuditEvent,
  type AuditQuery,
  type Clock,
  type NewApproval,
  type NewAuditEvent,
} from "@causeway/core";
import type BetterSqlite3 from "better-sqlite3";
import type { Kysely } from "kysely";
import { toApproval, toAuditEvent } from "./mappers.js";
import { checkLimit } from "./query-limits.js";
import type { ApprovalDecisionRow, ApprovalRow, AuditEventRow, CausewayDatabase } from "./schema.js";

type Statement = BetterSqlite3.Statement<[Record<string, unknown>]>;

/**
 * The approval gates and the audit trail of the SQLite store (migration 0007), for SqliteRepo.
 * Opening a gate and appending to the audit trail happen inside a run's creation or a
 * request's transaction, so they are prepared statements; the rest goes through Kysely.
 */
export class ApprovalsRepo {
  readonly #db: Kysely<CausewayDatabase>;
  readonly #clock: Clock;
  readonly #insertApproval: Statement;
  readonly #insertAudit: Statement;

  constructor(db: Kysely<CausewayDatabase>, sqlite: BetterSqlite3.Database, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
    this.#insertApproval = sqlite.prepare(
      `INSERT INTO approvals (run_id, job, gate, deadline, state, created_at)
       VALUES (@run_id, @job, @gate, @deadline, @state, @created_at)`,
    );
    this.#insertAudit = sqlite.prepare(
      `INSERT INTO audit_events (at, actor, action, subject, detail) VALUES (@at, @actor, @action, @subject, @detail)`,
    );
  }

  insertApproval(approval: NewApproval): void {
    const row: ApprovalRow = {
      run_id: approval.runId,
      job: approval.job,
      gate: JSON.stringify(approval.gate),
      deadline: approval.deadline,
      state: "pending",
      created_at: this.#clock.now().toISOString(),
    };
    this.#insertApproval.run({ ...row });
  }

  async getApproval(runId: number): Promise<ApprovalRecord | undefined> {
    const row = await this.#db.selectFrom("approvals").selectAll().where("run_id", "=", runId).executeTakeFirst();
    if (row === undefined) return undefined;
    return toApproval(row, await this.#decisions([runId]));
  }

  async listPendingApprovals(limit?: number): Promise<ApprovalRecord[]> {
    let query = this.#db
      .selectFrom("approvals")
      .innerJoin("runs", "runs.id", "approvals.run_id")
      .selectAll("approvals")
      .where("approvals.state", "=", "pending")
      .where("runs.status", "=", "waiting_approval")
      .orderBy("approvals.deadline")
      .orderBy("approvals.run_id");
    if (limit !== undefined) query = query.limit(checkLimit(limit));
    const rows = await query.execute();
    const decisions = await this.#decisions(rows.map((r) => r.run_id));
    return rows.map((row) => toApproval(row, decisions));
  }

  async insertApprovalDecision(runId: number, decision: ApprovalDecision): Promise<void> {
    await this.#db
      .insertInto("approval_decisions")
      .values({
        run_id: runId,
        by_name: decision.by,
        verdict: decision.verdict,
        comment: decision.comment,
        at: decision.at,
      })
      .execute();
  }

  async setApprovalState(runId: number, state: ApprovalState): Promise<void> {
    await this.#db.updateTable("approvals").set({ state }).where("run_id", "=", runId).execute();
  }

  insertAudit(event: NewAuditEvent): AuditEvent {
    const row: Omit<AuditEventRow, "id"> = {
      at: this.#clock.now().toISOString(),
      actor: event.actor,
      action: event.action,
      subject: event.subject,
      detail: JSON.stringify(event.detail),
    };
    const { lastInsertRowid } = this.#insertAudit.run({ ...row });
    return toAuditEvent({ id: Number(lastInsertRowid), ...row });
  }

  async listAudit(query: AuditQuery = {}): Promise<AuditEvent[]> {
    let select = this.#db.selectFrom("audit_events").selectAll().orderBy("id", "desc");
    if (query.after !== undefined) select = select.where("id", ">", query.after);
    if (query.before !== undefined) select = select.where("id", "<", query.before);
    if (query.action !== undefined) select = select.where("action", "=", query.action);
    if (query.subject !== undefined) select = select.where("subject", "=", query.subject);
    if (query.limit !== undefined) select = select.limit(checkLimit(query.limit));
    return (await select.execute()).map(toAuditEvent);
  }

  /** The decisions of these gates, by run, oldest first. */
  async #decisions(runIds: readonly number[]): Promise<Map<number, ApprovalDecisionRow[]>> {
    const out = new Map<number, ApprovalDecisionRow[]>();
    if (runIds.length === 0) return out;
    const rows = await this.#db
      .selectFrom("approval_decisions")
      .selectAll()
      .where("run_id", "in", [...runIds])
      .orderBy("at")
      .execute();
    for (const row of rows) {
      const list = out.get(row.run_id);
      if (list === undefined) out.set(row.run_id, [row]);
      else list.push(row);
    }
    return out;
  }
}

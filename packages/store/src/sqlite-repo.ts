import { CausewayError } from "@causeway/core";
import type {
  ApplyRecord,
  ApprovalDecision,
  ApprovalRecord,
  ApprovalState,
  AuditEvent,
  AuditQuery,
  Clock,
  EngineEvent,
  Explain,
  Mapping,
  NewApplyRecord,
  NewApproval,
  NewAuditEvent,
  NewExplain,
  NewRun,
  NewVersion,
  NewNotification,
  NewWebhookRefusal,
  Notification,
  NotificationPatch,
  NotificationQuery,
  Pin,
  Run,
  RunPatch,
  SecretFields,
  SecretSummary,
  RunQuery,
  StoredObject,
  StoreTx,
  Version,
  WebhookRefusal,
} from "@causeway/core";
import type BetterSqlite3 from "better-sqlite3";
import type { Kysely } from "kysely";
import { listRunsQuery } from "./runs-query.js";
import { toEvent, toExplain, toObject, toPin, toRun, toVersion } from "./mappers.js";
import { ApprovalsRepo } from "./approvals-repo.js";
import { NotificationsRepo } from "./notifications-repo.js";
import { HistoryRepo } from "./history-repo.js";
import { checkLimit } from "./query-limits.js";
import type { SecretKeyRing } from "./secret-keys.js";
import { SecretsRepo } from "./secrets-repo.js";
import type { CausewayDatabase, EventRow, ExplainRow, RunRow, VersionRow } from "./schema.js";

type Statement<P, R = unknown> = BetterSqlite3.Statement<[P], R>;

/**
 * The hot statements, prepared once. Kysely costs tens of microseconds per query (building,
 * compiling, and a fresh `prepare` by its driver); the engine calls these a handful of times per
 * run, so they go straight to better-sqlite3. Inserts use `run()` and build the result from
 * what they wrote: `RETURNING` costs better-sqlite3 three times the insert itself. Everything
 * else goes through Kysely.
 */
interface HotStatements {
  nextVersionNumber: Statement<{ objectName: string }, number>;
  insertVersion: Statement<Record<string, unknown>>;
  getVersion: Statement<{ id: number }, VersionRow>;
  latestVersion: Statement<{ objectName: string }, VersionRow>;
  versionByNumber: Statement<{ objectName: string; versionNumber: number }, VersionRow>;
  nextRunNumber: Statement<{ job: string }, number>;
  insertRun: Statement<Record<string, unknown>>;
  updateRun: Statement<Record<string, unknown>>;
  getRun: Statement<{ id: number }, RunRow>;
  insertExplain: Statement<Record<string, unknown>>;
  appendEvent: Statement<Record<string, unknown>>;
}

function prepareHot(sqlite: BetterSqlite3.Database): HotStatements {
  const prepare = <P, R = unknown>(sql: string) => sqlite.prepare<[P], R>(sql);
  return {
    nextVersionNumber: prepare<{ objectName: string }, number>(
      `SELECT COALESCE(MAX(version_number), 0) + 1 FROM versions WHERE object_name = @objectName`,
    ).pluck(),
    insertVersion: prepare(
      `INSERT INTO versions (object_name, version_number, version_name, property_bag, created_at, created_by,
         run_id, state_sha, flow_id)
       VALUES (@objectName, @versionNumber, @versionName, @propertyBag, @createdAt, @createdBy, @runId, @stateSha,
         @flowId)`,
    ),
    getVersion: prepare(`SELECT * FROM versions WHERE id = @id`),
    latestVersion: prepare(
      `SELECT * FROM versions WHERE object_name = @objectName ORDER BY version_number DESC LIMIT 1`,
    ),
    versionByNumber: prepare(
      `SELECT * FROM versions WHERE object_name = @objectName AND version_number = @versionNumber`,
    ),
    nextRunNumber: prepare<{ job: string }, number>(
      `SELECT COALESCE(MAX(number), 0) + 1 FROM runs WHERE job = @job`,
    ).pluck(),
    insertRun: prepare(
      `INSERT INTO runs (job, number, status, status_reason, trigger, flow, inputs, params, secret_params, priority,
         attempt, rerun_of, exit_code, created_at, started_at, finished_at)
       VALUES (@job, @number, @status, @statusReason, @trigger, @flow, @inputs, @params, @secretParams, @priority,
         @attempt, @rerunOf, NULL, @createdAt, NULL, NULL)`,
    ),
    // One statement for every patch: a flag per field says whether to set it.
    updateRun: prepare(
      `UPDATE runs SET
         status = CASE WHEN @setStatus THEN @status ELSE status END,
         status_reason = CASE WHEN @setStatusReason THEN @statusReason ELSE status_reason END,
         inputs = CASE WHEN @setInputs THEN @inputs ELSE inputs END,
         exit_code = CASE WHEN @setExitCode THEN @exitCode ELSE exit_code END,
         started_at = CASE WHEN @setStartedAt THEN @startedAt ELSE started_at END,
         finished_at = CASE WHEN @setFinishedAt THEN @finishedAt ELSE finished_at END
       WHERE id = @id`,
    ),
    getRun: prepare(`SELECT * FROM runs WHERE id = @id`),
    insertExplain: prepare(
      `INSERT INTO explains (job, at, event, outcome, run_id, message)
       VALUES (@job, @at, @event, @outcome, @runId, @message)`,
    ),
    appendEvent: prepare(`INSERT INTO events (at, type, payload) VALUES (@at, @type, @payload)`),
  };
}

/**
 * StoreTx on one SQLite connection, with no locking of its own: the store decides when its
 * methods may run (inside BEGIN IMMEDIATE ... COMMIT, or one at a time for `store.read`).
 */
export class SqliteRepo implements StoreTx {
  readonly #db: Kysely<CausewayDatabase>;
  readonly #clock: Clock;
  readonly #hot: HotStatements;
  readonly #approvals: ApprovalsRepo;
  readonly #notifications: NotificationsRepo;
  readonly #history: HistoryRepo;
  readonly #secrets: SecretsRepo;
  readonly #toRun: (row: RunRow) => Run;

  constructor(db: Kysely<CausewayDatabase>, sqlite: BetterSqlite3.Database, clock: Clock, keys: SecretKeyRing) {
    this.#db = db;
    this.#clock = clock;
    this.#hot = prepareHot(sqlite);
    this.#approvals = new ApprovalsRepo(db, sqlite, clock);
    this.#notifications = new NotificationsRepo(db, sqlite, clock);
    this.#history = new HistoryRepo(db, clock);
    this.#secrets = new SecretsRepo(db, clock, keys);
    this.#toRun = (row) => toRun(row, (text, secret) => this.#secrets.openParams(text, secret));
  }

  /** The ids of the keys the stored secrets were sealed with (checked against the key ring at open). */
  secretKeyIds(): Promise<Set<string>> {
    return this.#secrets.keyIds();
  }

  #now(): string {
    return this.#clock.now().toISOString();
  }

  // Objects and pins.

  async listObjects(includeDeleted = false): Promise<StoredObject[]> {
    let query = this.#db.selectFrom("objects").selectAll().orderBy("name");
    if (!includeDeleted) query = query.where("deleted_at", "is", null);
    return (await query.execute()).map(toObject);
  }

  async getObject(name: string): Promise<StoredObject | undefined> {
    const row = await this.#db.selectFrom("objects").selectAll().where("name", "=", name).executeTakeFirst();
    return row === undefined ? undefined : toObject(row);
  }

  async putObject(object: Omit<StoredObject, "paused" | "deletedAt">): Promise<void> {
    const now = this.#now();
    const definition = JSON.stringify(object.definition);
    const consistent = object.consistent ? 1 : 0;
    await this.#db
      .insertInto("objects")
      .values({
        name: object.name,
        kind: object.kind,
        type: object.type,
        definition,
        consistent,
        paused: 0,
        deleted_at: null,
        created_at: now,
        updated_at: now,
      })
      .onConflict((conflict) =>
        conflict.column("name").doUpdateSet({
          kind: object.kind,
          type: object.type,
          definition,
          consistent,
          deleted_at: null,
          updated_at: now,
        }),
      )
      .execute();
  }

  async softDeleteObject(name: string): Promise<void> {
    const now = this.#now();
    await this.#db
      .updateTable("objects")
      .set({ deleted_at: now, updated_at: now })
      .where("name", "=", name)
      .where("deleted_at", "is", null)
      .execute();
  }

  async setPaused(job: string, paused: boolean): Promise<void> {
    const result = await this.#db
      .updateTable("objects")
      .set({ paused: paused ? 1 : 0, updated_at: this.#now() })
      .where("name", "=", job)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new CausewayError("JOB_NOT_FOUND", `no job named ${job}`);
  }

  async listPins(job?: string): Promise<Pin[]> {
    let query = this.#db.selectFrom("pins").selectAll().orderBy("job").orderBy("input");
    if (job !== undefined) query = query.where("job", "=", job);
    return (await query.execute()).map(toPin);
  }

  async setPin(job: string, input: string, versionNumber: number | null): Promise<void> {
    if (versionNumber === null) {
      await this.#db.deleteFrom("pins").where("job", "=", job).where("input", "=", input).execute();
      return;
    }
    await this.#db
      .insertInto("pins")
      .values({ job, input, version_number: versionNumber })
      .onConflict((conflict) => conflict.columns(["job", "input"]).doUpdateSet({ version_number: versionNumber }))
      .execute();
  }

  // Versions.

  insertVersion(version: NewVersion): Promise<Version> {
    return settle(() => this.#insertVersion(version));
  }

  #insertVersion(version: NewVersion): Version {
    const row: Omit<VersionRow, "id"> = {
      object_name: version.objectName,
      version_number: defined(this.#hot.nextVersionNumber.get({ objectName: version.objectName })),
      version_name: version.versionName,
      property_bag: JSON.stringify(version.propertyBag),
      created_at: this.#now(),
      created_by: version.createdBy,
      run_id: version.runId,
      state_sha: version.stateSha,
      flow_id: version.flowId,
    };
    const { lastInsertRowid } = this.#hot.insertVersion.run({
      objectName: row.object_name,
      versionNumber: row.version_number,
      versionName: row.version_name,
      propertyBag: row.property_bag,
      createdAt: row.created_at,
      createdBy: row.created_by,
      runId: row.run_id,
      stateSha: row.state_sha,
      flowId: row.flow_id,
    });
    return toVersion({ id: Number(lastInsertRowid), ...row });
  }

  getVersion(id: number): Promise<Version | undefined> {
    return settle(() => mapOptional(this.#hot.getVersion.get({ id }), toVersion));
  }

  latestVersion(objectName: string): Promise<Version | undefined> {
    return settle(() => mapOptional(this.#hot.latestVersion.get({ objectName }), toVersion));
  }

  versionByNumber(objectName: string, versionNumber: number): Promise<Version | undefined> {
    return settle(() => mapOptional(this.#hot.versionByNumber.get({ objectName, versionNumber }), toVersion));
  }

  async latestVersionNamed(objectName: string, versionName: string): Promise<Version | undefined> {
    const row = await this.#db
      .selectFrom("versions")
      .selectAll()
      .where("object_name", "=", objectName)
      .where("version_name", "=", versionName)
      .orderBy("version_number", "desc")
      .limit(1)
      .executeTakeFirst();
    return mapOptional(row, toVersion);
  }

  async listVersions(objectName: string, limit?: number): Promise<Version[]> {
    let query = this.#db
      .selectFrom("versions")
      .selectAll()
      .where("object_name", "=", objectName)
      .orderBy("version_number", "desc");
    if (limit !== undefined) query = query.limit(checkLimit(limit));
    return (await query.execute()).map(toVersion);
  }

  async versionsOfRun(runId: number): Promise<Version[]> {
    const rows = await this.#db.selectFrom("versions").selectAll().where("run_id", "=", runId).orderBy("id").execute();
    return rows.map(toVersion);
  }

  // Runs.

  insertRun(run: NewRun): Promise<Run> {
    return settle(() => this.#insertRun(run));
  }

  #insertRun(run: NewRun): Run {
    const row: Omit<RunRow, "id"> = {
      job: run.job,
      number: defined(this.#hot.nextRunNumber.get({ job: run.job })),
      status: run.status,
      status_reason: run.statusReason,
      trigger: JSON.stringify(run.trigger),
      flow: run.flow,
      inputs: JSON.stringify(run.inputs),
      // The values of secret parameters are encrypted at rest (only runs that have some pay).
      params: this.#secrets.sealParams(run.params, run.secretParams),
      secret_params: JSON.stringify([...new Set(run.secretParams)].sort()),
      priority: run.priority,
      attempt: run.attempt,
      rerun_of: run.rerunOf,
      exit_code: null,
      created_at: this.#now(),
      started_at: null,
      finished_at: null,
    };
    const { lastInsertRowid } = this.#hot.insertRun.run({
      job: row.job,
      number: row.number,
      status: row.status,
      statusReason: row.status_reason,
      trigger: row.trigger,
      flow: row.flow,
      inputs: row.inputs,
      params: row.params,
      secretParams: row.secret_params,
      priority: row.priority,
      attempt: row.attempt,
      rerunOf: row.rerun_of,
      createdAt: row.created_at,
    });
    const plain = run.secretParams.length === 0 ? row.params : JSON.stringify(run.params);
    return toRun({ id: Number(lastInsertRowid), ...row, params: plain });
  }

  updateRun(id: number, patch: RunPatch): Promise<Run> {
    return settle(() => this.#updateRun(id, patch));
  }

  #updateRun(id: number, patch: RunPatch): Run {
    const { changes } = this.#hot.updateRun.run({
      id,
      setStatus: flag(patch.status),
      status: patch.status ?? null,
      setStatusReason: flag(patch.statusReason),
      statusReason: patch.statusReason ?? null,
      setInputs: flag(patch.inputs),
      inputs: patch.inputs === undefined ? null : JSON.stringify(patch.inputs),
      setExitCode: flag(patch.exitCode),
      exitCode: patch.exitCode ?? null,
      setStartedAt: flag(patch.startedAt),
      startedAt: patch.startedAt ?? null,
      setFinishedAt: flag(patch.finishedAt),
      finishedAt: patch.finishedAt ?? null,
    });
    if (changes === 0) throw new CausewayError("RUN_NOT_FOUND", `no run with id ${id}`);
    return this.#toRun(defined(this.#hot.getRun.get({ id })));
  }

  getRun(id: number): Promise<Run | undefined> {
    return settle(() => mapOptional(this.#hot.getRun.get({ id }), this.#toRun));
  }

  async listRuns(query: RunQuery = {}): Promise<Run[]> {
    if (query.statuses?.length === 0) return [];
    return (await listRunsQuery(this.#db, query).execute()).map(this.#toRun);
  }

  async flowsWithPrefix(prefix: string, limit: number): Promise<string[]> {
    // A range on the (flow, id) index: [prefix, prefix with its last character incremented).
    // SQLite compares text as UTF-8 bytes, which orders like code points.
    let select = this.#db
      .selectFrom("runs")
      .select("flow")
      .distinct()
      .where("flow", ">=", prefix)
      .orderBy("flow")
      .limit(checkLimit(limit));
    const last = prefix.codePointAt(prefix.length - 1);
    if (last !== undefined && last < 0x10ffff) {
      const head = [...prefix].slice(0, -1).join("");
      select = select.where("flow", "<", head + String.fromCodePoint(last + 1));
    }
    return (await select.execute()).map((row) => row.flow);
  }

  // Explains and events.

  insertExplain(explain: NewExplain): Promise<Explain> {
    return settle(() => this.#insertExplain(explain));
  }

  #insertExplain(explain: NewExplain): Explain {
    const row: Omit<ExplainRow, "id"> = {
      job: explain.job,
      at: this.#now(),
      event: explain.event,
      outcome: explain.outcome,
      run_id: explain.runId,
      message: explain.message,
    };
    const { lastInsertRowid } = this.#hot.insertExplain.run({
      job: row.job,
      at: row.at,
      event: row.event,
      outcome: row.outcome,
      runId: row.run_id,
      message: row.message,
    });
    return toExplain({ id: Number(lastInsertRowid), ...row });
  }

  async listExplains(job: string, limit?: number): Promise<Explain[]> {
    let query = this.#db.selectFrom("explains").selectAll().where("job", "=", job).orderBy("id", "desc");
    if (limit !== undefined) query = query.limit(checkLimit(limit));
    return (await query.execute()).map(toExplain);
  }

  appendEvent(type: EngineEvent["type"], payload: Mapping): Promise<EngineEvent> {
    return settle(() => {
      const row: Omit<EventRow, "id"> = { at: this.#now(), type, payload: JSON.stringify(payload) };
      const { lastInsertRowid } = this.#hot.appendEvent.run(row);
      return toEvent({ id: Number(lastInsertRowid), ...row });
    });
  }

  // Delivery keys of versions created from outside.

  async versionByKey(objectName: string, key: string): Promise<Version | undefined> {
    const row = await this.#db
      .selectFrom("version_keys")
      .innerJoin("versions", "versions.id", "version_keys.version_id")
      .selectAll("versions")
      .where("version_keys.object_name", "=", objectName)
      .where("version_keys.key", "=", key)
      .executeTakeFirst();
    return mapOptional(row, toVersion);
  }

  async recordVersionKey(objectName: string, key: string, versionId: number): Promise<void> {
    await this.#db
      .insertInto("version_keys")
      .values({ object_name: objectName, key, version_id: versionId, created_at: this.#now() })
      .execute();
  }

  // The apply history and the refused webhook deliveries (history-repo.ts).

  insertApply(record: NewApplyRecord, keep: number): Promise<ApplyRecord> {
    return this.#history.insertApply(record, keep);
  }

  listApplies(limit?: number): Promise<ApplyRecord[]> {
    return this.#history.listApplies(limit);
  }

  insertWebhookRefusal(refusal: NewWebhookRefusal, keep: number): Promise<WebhookRefusal> {
    return this.#history.insertRefusal(refusal, keep);
  }

  listWebhookRefusals(limit?: number): Promise<WebhookRefusal[]> {
    return this.#history.listRefusals(limit);
  }

  // The notification outbox (notifications-repo.ts).

  insertNotification(notification: NewNotification): Promise<Notification> {
    return settle(() => this.#notifications.insert(notification));
  }

  getNotification(id: number): Promise<Notification | undefined> {
    return this.#notifications.get(id);
  }

  updateNotification(id: number, patch: NotificationPatch): Promise<Notification> {
    return this.#notifications.update(id, patch);
  }

  listNotifications(query?: NotificationQuery): Promise<Notification[]> {
    return this.#notifications.list(query);
  }

  dueNotifications(now: string, limit: number, exclude: readonly number[]): Promise<Notification[]> {
    return this.#notifications.due(now, limit, exclude);
  }

  nextNotificationDue(exclude: readonly number[]): Promise<string | undefined> {
    return this.#notifications.nextDue(exclude);
  }

  // Approval gates and the audit trail (approvals-repo.ts).

  insertApproval(approval: NewApproval): Promise<void> {
    return settle(() => this.#approvals.insertApproval(approval));
  }

  getApproval(runId: number): Promise<ApprovalRecord | undefined> {
    return this.#approvals.getApproval(runId);
  }

  listPendingApprovals(limit?: number): Promise<ApprovalRecord[]> {
    return this.#approvals.listPendingApprovals(limit);
  }

  insertApprovalDecision(runId: number, decision: ApprovalDecision): Promise<void> {
    return this.#approvals.insertApprovalDecision(runId, decision);
  }

  setApprovalState(runId: number, state: ApprovalState): Promise<void> {
    return this.#approvals.setApprovalState(runId, state);
  }

  insertAudit(event: NewAuditEvent): Promise<AuditEvent> {
    return settle(() => this.#approvals.insertAudit(event));
  }

  listAudit(query?: AuditQuery): Promise<AuditEvent[]> {
    return this.#approvals.listAudit(query);
  }

  // The integration store (secrets-repo.ts).

  putSecret(name: string, fields: SecretFields): Promise<SecretSummary> {
    return this.#secrets.put(name, fields);
  }

  getSecret(name: string): Promise<SecretFields | undefined> {
    return this.#secrets.get(name);
  }

  listSecrets(): Promise<SecretSummary[]> {
    return this.#secrets.list();
  }

  deleteSecret(name: string): Promise<boolean> {
    return this.#secrets.delete(name);
  }

  resealSecrets(): Promise<number> {
    return this.#secrets.reseal();
  }

  async eventsSince(afterId: number, limit?: number): Promise<EngineEvent[]> {
    let query = this.#db.selectFrom("events").selectAll().where("id", ">", afterId).orderBy("id");
    if (limit !== undefined) query = query.limit(checkLimit(limit));
    return (await query.execute()).map(toEvent);
  }
}

/** Runs a synchronous statement as a promise: a throw becomes a rejection, never a sync throw. */
function settle<T>(compute: () => T): Promise<T> {
  try {
    return Promise.resolve(compute());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

function flag(value: unknown): number {
  return value === undefined ? 0 : 1;
}

function defined<T>(row: T | undefined): T {
  // An aggregate always returns a row; a row just written is there to read.
  if (row === undefined) throw new Error("the store expected a row and found none");
  return row;
}

function mapOptional<R, T>(row: R | undefined, map: (row: R) => T): T | undefined {
  return row === undefined ? undefined : map(row);
}

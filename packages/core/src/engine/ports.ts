import type { Approval, Mapping } from "../language/model.js";
import type { ApprovalDecision, ApprovalRecord, ApprovalState } from "./approvals.js";
import type {
  ApplyRecord,
  AuditAction,
  AuditEvent,
  EngineEvent,
  Explain,
  ExplainOutcome,
  Run,
  RunInput,
  RunStatus,
  RunTrigger,
  Version,
} from "./model.js";

/**
 * The ports of the engine: what it needs from persistence, declared here so that the engine
 * never sees a database type. The store package implements them for SQLite (and Postgres);
 * one contract test suite runs against every implementation.
 */

/** A resource or job as stored: its normalised definition and its run-time switches. */
export interface StoredObject {
  readonly name: string;
  readonly kind: "resource" | "job";
  readonly type: string;
  /** The normalised definition (a ResourceDef or JobDef of the language), as JSON. */
  readonly definition: Mapping;
  readonly consistent: boolean;
  /** Jobs only: automatic triggers are off. */
  readonly paused: boolean;
  /** ISO time of the soft delete; null while defined. History is kept either way. */
  readonly deletedAt: string | null;
}

/** A run-time pin: `job` uses `versionNumber` of `input` until unpinned. */
export interface Pin {
  readonly job: string;
  readonly input: string;
  readonly versionNumber: number;
}

/** A new version; the store assigns id, versionNumber and createdAt. */
export interface NewVersion {
  readonly objectName: string;
  readonly versionName: string;
  readonly propertyBag: Mapping;
  readonly createdBy: string;
  readonly runId: number | null;
  readonly stateSha: string | null;
  readonly flowId: string | null;
}

/** A new run; the store assigns id, number (per job) and createdAt. */
export interface NewRun {
  readonly job: string;
  readonly status: RunStatus;
  readonly statusReason: string | null;
  readonly trigger: RunTrigger;
  readonly flow: string;
  readonly inputs: readonly RunInput[];
  readonly params: Readonly<Record<string, string>>;
  /** The names of `params` whose values are secret (`Run.secretParams`). */
  readonly secretParams: readonly string[];
  readonly priority: number;
  readonly attempt: number;
  readonly rerunOf: number | null;
}

/** Fields of a run that change over its life. */
export interface RunPatch {
  readonly status?: RunStatus;
  readonly statusReason?: string | null;
  readonly inputs?: readonly RunInput[];
  readonly exitCode?: number | null;
  readonly startedAt?: string | null;
  readonly finishedAt?: string | null;
}

/** Filters of a run listing; newest first. */
export interface RunQuery {
  readonly job?: string;
  readonly flow?: string;
  readonly statuses?: readonly RunStatus[];
  readonly limit?: number;
}

/** A new explain record. */
export interface NewExplain {
  readonly job: string;
  readonly event: string;
  readonly outcome: ExplainOutcome;
  readonly runId: number | null;
  readonly message: string;
}

/**
 * A delivery a webhook endpoint refused (no or wrong credentials, no key to check them against,
 * a body over the cap), kept for `causeway webhooks`.
 */
export interface WebhookRefusal {
  readonly id: number;
  /** ISO time of the refusal. */
  readonly at: string;
  /** The resource the delivery was addressed to. */
  readonly resource: string;
  /** The HTTP status of the answer (401, 403, 413). */
  readonly status: number;
  /** The error code of the answer. */
  readonly code: string;
  /** Why, in words (never a credential). */
  readonly reason: string;
  /** The sender's delivery id, when it sent one. */
  readonly delivery: string | null;
  /** The address the delivery came from, when known. */
  readonly remote: string | null;
}

/** A new refused delivery; the store assigns id and `at`. */
export type NewWebhookRefusal = Omit<WebhookRefusal, "id" | "at">;

/** Where an outbox delivery is: waiting for an attempt, sent, or given up. */
export type NotificationState = "pending" | "delivered" | "failed";

/**
 * One delivery of the notification outbox: a resource's notification of an event to one target
 * (a URL, a channel, an address; `""` for the integration's own URL). `data` is what the event
 * said (`NotificationData`), never a secret value; it is rendered and redacted when sent.
 */
export interface Notification {
  readonly id: number;
  readonly createdAt: string;
  readonly runId: number | null;
  readonly job: string;
  readonly event: string;
  readonly resource: string;
  /** webhook, slack or email; null: the integration's `method` field decides. */
  readonly method: string | null;
  readonly target: string;
  readonly data: Mapping;
  readonly state: NotificationState;
  /** Attempts started (an attempt counts before it is made, so a crash during one counts too). */
  readonly attempts: number;
  /** When a pending delivery is due; null once delivered or failed. */
  readonly nextAttemptAt: string | null;
  readonly lastError: string | null;
  readonly deliveredAt: string | null;
}

/** A new delivery, pending from `nextAttemptAt`; the store assigns id and createdAt. */
export type NewNotification = Pick<
  Notification,
  "runId" | "job" | "event" | "resource" | "method" | "target" | "data" | "nextAttemptAt"
>;

/** Fields of a delivery that change over its life. */
export type NotificationPatch = Partial<
  Pick<Notification, "state" | "attempts" | "nextAttemptAt" | "lastError" | "deliveredAt">
>;

/** Filters of a delivery listing; newest first. */
export interface NotificationQuery {
  readonly state?: NotificationState;
  readonly limit?: number;
}

/** A new approval gate of a run; the store sets `createdAt` and the state `pending`. */
export interface NewApproval {
  readonly runId: number;
  readonly job: string;
  readonly gate: Approval;
  readonly deadline: string;
}

/** A new entry of the audit trail; the store assigns id and `at`. */
export interface NewAuditEvent {
  readonly actor: string;
  readonly action: AuditAction;
  readonly subject: string;
  readonly detail: Mapping;
}

/** Filters of the audit trail; newest first. */
export interface AuditQuery {
  readonly limit?: number;
  /** Entries with an id above this one only (what is new since). */
  readonly after?: number;
  /** Entries with an id below this one only (the next page back). */
  readonly before?: number;
  readonly action?: AuditAction;
  readonly subject?: string;
}

/** A new entry of the apply history; the store assigns id and `at`. */
export type NewApplyRecord = Omit<ApplyRecord, "id" | "at">;

/**
 * Reads and writes of one transaction. Contract: every method sees the writes made before it
 * in the same transaction; nothing is visible to others until the transaction commits; a
 * thrown error rolls everything back. Times are ISO strings from the store's clock.
 */
export interface StoreTx {
  listObjects(includeDeleted?: boolean): Promise<StoredObject[]>;
  getObject(name: string): Promise<StoredObject | undefined>;
  /** Inserts or replaces a definition; un-deletes a soft-deleted object of the same name. */
  putObject(object: Omit<StoredObject, "paused" | "deletedAt">): Promise<void>;
  softDeleteObject(name: string): Promise<void>;
  setPaused(job: string, paused: boolean): Promise<void>;
  listPins(job?: string): Promise<Pin[]>;
  /** Sets (versionNumber) or clears (null) a run-time pin. */
  setPin(job: string, input: string, versionNumber: number | null): Promise<void>;

  insertVersion(version: NewVersion): Promise<Version>;
  getVersion(id: number): Promise<Version | undefined>;
  latestVersion(objectName: string): Promise<Version | undefined>;
  versionByNumber(objectName: string, versionNumber: number): Promise<Version | undefined>;
  /** The most recent version carrying this versionName. */
  latestVersionNamed(objectName: string, versionName: string): Promise<Version | undefined>;
  /** The version recorded under a delivery key of `objectName` (see `recordVersionKey`). */
  versionByKey(objectName: string, key: string): Promise<Version | undefined>;
  /**
   * Records that the delivery `key` of `objectName` created version `versionId`. A key recorded
   * before fails (a unique constraint): callers look it up first, in the same transaction.
   */
  recordVersionKey(objectName: string, key: string, versionId: number): Promise<void>;
  /** Versions of an object, newest first. */
  listVersions(objectName: string, limit?: number): Promise<Version[]>;
  /** The version a run produced for an object (its job version, or an OUT version). */
  versionsOfRun(runId: number): Promise<Version[]>;

  insertRun(run: NewRun): Promise<Run>;
  updateRun(id: number, patch: RunPatch): Promise<Run>;
  getRun(id: number): Promise<Run | undefined>;
  listRuns(query?: RunQuery): Promise<Run[]>;
  /** Up to `limit` distinct flow ids of runs that start with `prefix`, in order (a flow id is all of it). */
  flowsWithPrefix(prefix: string, limit: number): Promise<string[]>;

  insertExplain(explain: NewExplain): Promise<Explain>;
  /** Explain records of a job, newest first. */
  listExplains(job: string, limit?: number): Promise<Explain[]>;

  appendEvent(type: EngineEvent["type"], payload: Mapping): Promise<EngineEvent>;

  /**
   * Records an apply in the apply history and deletes the oldest entries beyond the newest
   * `keep` (a positive integer; STORE_BAD_ARGUMENT otherwise).
   */
  insertApply(record: NewApplyRecord, keep: number): Promise<ApplyRecord>;
  /** The apply history, newest first. */
  listApplies(limit?: number): Promise<ApplyRecord[]>;

  /**
   * Records a refused webhook delivery and deletes the oldest beyond the newest `keep` (a
   * positive integer; STORE_BAD_ARGUMENT otherwise), so a flood of bad requests stays bounded.
   */
  insertWebhookRefusal(refusal: NewWebhookRefusal, keep: number): Promise<WebhookRefusal>;
  /** Refused webhook deliveries, newest first. */
  listWebhookRefusals(limit?: number): Promise<WebhookRefusal[]>;

  // notification outbox
  /** Adds a pending delivery (one prepared insert: the engine calls it in a run's transaction). */
  insertNotification(notification: NewNotification): Promise<Notification>;
  getNotification(id: number): Promise<Notification | undefined>;
  /** Changes a delivery; NOTIFICATION_NOT_FOUND when there is none. */
  updateNotification(id: number, patch: NotificationPatch): Promise<Notification>;
  /** Deliveries, newest first. */
  listNotifications(query?: NotificationQuery): Promise<Notification[]>;
  /** Pending deliveries due at `now` (by due time, then id), at most `limit`, leaving out `exclude`. */
  dueNotifications(now: string, limit: number, exclude: readonly number[]): Promise<Notification[]>;
  /** The earliest due time of a pending delivery not in `exclude`, or undefined when none is pending. */
  nextNotificationDue(exclude: readonly number[]): Promise<string | undefined>;
  // approvals and audit

  /** Opens the gate of a run (one per run: a second fails on its primary key). */
  insertApproval(approval: NewApproval): Promise<void>;
  /** The gate of a run with its decisions (oldest first), if the run has one. */
  getApproval(runId: number): Promise<ApprovalRecord | undefined>;
  /** The gates still `pending` whose run is `waiting_approval`, earliest deadline first. */
  listPendingApprovals(limit?: number): Promise<ApprovalRecord[]>;
  /** Records one person's decision; a second decision of the same person fails (primary key). */
  insertApprovalDecision(runId: number, decision: ApprovalDecision): Promise<void>;
  /** Closes a gate (`approved`, `rejected`). */
  setApprovalState(runId: number, state: ApprovalState): Promise<void>;
  /** Appends to the audit trail, which is never cut. */
  insertAudit(event: NewAuditEvent): Promise<AuditEvent>;
  /** The audit trail, newest first. */
  listAudit(query?: AuditQuery): Promise<AuditEvent[]>;

  // the integration store (secrets): the store encrypts every value at rest with a key kept
  // outside the database; values cross this port in plain text, so only the server reads them.
  /** Creates or replaces a secret (SECRET_INVALID for a bad name or fields). */
  putSecret(name: string, fields: SecretFields): Promise<SecretSummary>;
  /** A secret's fields, decrypted; undefined when none has that name (SECRET_KEY_INVALID when its key is missing). */
  getSecret(name: string): Promise<SecretFields | undefined>;
  /** Every secret's name and field names, by name: never a value. */
  listSecrets(): Promise<SecretSummary[]>;
  /** Deletes a secret; false when there was none. */
  deleteSecret(name: string): Promise<boolean>;
  /**
   * Re-encrypts every secret and every secret run parameter sealed under another key than the
   * store's current one (key rotation); returns how many values it rewrote.
   */
  resealSecrets(): Promise<number>;
}

/** The fields of a secret (an integration): names to values, all strings. */
export type SecretFields = Readonly<Record<string, string>>;

/** What may be shown of a secret: its name and field names, never a value. */
export interface SecretSummary {
  readonly name: string;
  readonly fields: readonly string[];
  /** ISO times. */
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * The values of integrations, for the engine to redact a run's console: the engine never holds
 * the key, it asks the server's integration store through this port. Contract: unknown names
 * are left out; never throws for a missing integration (the runner reports it).
 */
export interface SecretsPort {
  /** Every field value of the named integrations. */
  valuesOf(integrations: readonly string[]): Promise<string[]>;
}

/** The store: transactions plus reads outside of one. */
export interface Store {
  /** Runs `fn` in one transaction (serialisable with respect to other writers). */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** Reads without a transaction (each call sees committed data). */
  readonly read: StoreTx;
  /** Events after `afterId`, oldest first. */
  eventsSince(afterId: number, limit?: number): Promise<EngineEvent[]>;
  close(): Promise<void>;
}

/**
 * Content-addressed file storage for job state and state resources, kept out of the hot
 * tables. Contract: `put` is idempotent (same bytes, same sha); `get` of an unknown sha
 * returns undefined.
 */
export interface BlobStore {
  put(bytes: Uint8Array): Promise<string>;
  get(sha: string): Promise<Uint8Array | undefined>;
}

/**
 * Run logs, append-only. Contract: `append` adds bytes at the end; `read` returns the bytes
 * from `offset` (empty at the end) and never blocks. A run's log is `create`d before the run
 * executes and `close`d after its last append: from its creation on, a log that is missing was
 * lost (deleted, or replaced), which `read` with `expected` and `close` report as
 * `LOG_NOT_FOUND`, never as an empty log. Write failures are catalog errors naming the file:
 * `DISK_FULL` (no space, quota), `STORE_IO_ERROR` (anything else the system refused).
 */
export interface LogStore {
  /** Creates the run's log, empty, unless it exists (idempotent). Fails as `append` does. */
  create(runId: number): Promise<void>;
  append(runId: number, chunk: Uint8Array): Promise<void>;
  /**
   * The bytes from `offset`. A log that does not exist reads as empty, unless `expected` says
   * the run's log was created (the run executed): then it is `LOG_NOT_FOUND`.
   */
  read(runId: number, offset?: number, options?: { readonly expected?: boolean }): Promise<Uint8Array>;
  size(runId: number): Promise<number>;
  /**
   * Cuts a run's log back to `length` bytes when it holds more (a log reopened after a
   * restart, see RunObserver.rewind); a log that holds no more is left as it is.
   */
  truncate(runId: number, length: number): Promise<void>;
  /**
   * Ends a run's log after its last append: releases what appends held, and checks that the log
   * is still there and holds the `written` bytes appended (`LOG_NOT_FOUND` when it was deleted,
   * replaced or cut meanwhile). Called once per created log, whatever the run's outcome.
   */
  close(runId: number, written: number): Promise<void>;
}

/** The clock of the engine: injected so tests control time. */
export interface Clock {
  now(): Date;
}

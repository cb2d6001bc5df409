import type { Generated, Selectable } from "kysely";

/**
 * The tables of the store as Kysely sees them (SQLite flavour: JSON columns are TEXT, booleans
 * are INTEGER 0/1, times are ISO-8601 strings with milliseconds from the store's clock).
 * These row types never leave the store package: repositories map them to the domain types of
 * `@causeway/core`.
 */
export interface CausewayDatabase {
  objects: ObjectsTable;
  pins: PinsTable;
  versions: VersionsTable;
  runs: RunsTable;
  explains: ExplainsTable;
  events: EventsTable;
  applies: AppliesTable;
  apply_sources: ApplySourcesTable;
  version_keys: VersionKeysTable;
  webhook_refusals: WebhookRefusalsTable;
  notifications: NotificationsTable;
  approvals: ApprovalsTable;
  approval_decisions: ApprovalDecisionsTable;
  audit_events: AuditEventsTable;
  secrets: SecretsTable;
  api_tokens: ApiTokensTable;
  runner_registrations: RunnerRegistrationsTable;
  runners: RunnersTable;
  run_leases: RunLeasesTable;
}

/** Single-use runner registration tokens (migration 0011), by the SHA-256 of their secret. */
export interface RunnerRegistrationsTable {
  id: Generated<number>;
  hash: string;
  pool: string | null;
  created_at: string;
  created_by: string;
  expires_at: string;
  used_at: string | null;
}

/** Registered runners (migration 0011); `labels` is JSON text of a string array. */
export interface RunnersTable {
  id: Generated<number>;
  name: string;
  pool: string;
  labels: string;
  capacity: number;
  state: string;
  credential_hash: string;
  session: string | null;
  registered_at: string;
  last_seen_at: string | null;
}

/**
 * The leases of runs executing on remote runners (migration 0011). Its nullable `started_at`
 * column is left unused: a start is not stored (an adopted run counts as started at its
 * runner's first call).
 */
export interface RunLeasesTable {
  run_id: number;
  runner_id: number;
  epoch: number;
  token_hash: string;
  log_offset: number;
  /** The run log's length when `log_offset` was stored (migration 0012; null on older leases). */
  log_length: number | null;
  claimed_at: string;
}

/** The API tokens (migration 0009); `hash` is the SHA-256 of the secret, never the secret. */
export interface ApiTokensTable {
  id: Generated<number>;
  name: string;
  role: string;
  kind: string;
  hash: string;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** A secret of the integration store (migration 0010). */
export interface SecretsTable {
  name: string;
  /** JSON text of `{field: SealedValue}`: every value encrypted (secret-keys.ts). */
  fields: string;
  created_at: string;
  updated_at: string;
}

export type SecretRow = Selectable<SecretsTable>;

/** The approval gate of a run (migration 0007). */
export interface ApprovalsTable {
  run_id: number;
  job: string;
  /** JSON text of the job's `requiresApproval` when the run was created. */
  gate: string;
  deadline: string;
  state: string;
  created_at: string;
}

/** One person's decision on a gate (migration 0007). */
export interface ApprovalDecisionsTable {
  run_id: number;
  /** Who decided (`by` of the domain type; `by` is an SQL keyword). */
  by_name: string;
  verdict: string;
  comment: string | null;
  at: string;
}

/** The audit trail (migration 0007), never cut. */
export interface AuditEventsTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  subject: string;
  /** JSON text. */
  detail: string;
}

export type ApprovalRow = Selectable<ApprovalsTable>;
export type ApprovalDecisionRow = Selectable<ApprovalDecisionsTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;

export interface ObjectsTable {
  id: Generated<number>;
  name: string;
  kind: "resource" | "job";
  type: string;
  /** JSON text of the normalised definition. */
  definition: string;
  consistent: number;
  paused: number;
  deleted_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface PinsTable {
  job: string;
  input: string;
  version_number: number;
}

export interface VersionsTable {
  id: Generated<number>;
  object_name: string;
  version_number: number;
  version_name: string;
  /** JSON text. */
  property_bag: string;
  created_at: string;
  created_by: string;
  run_id: number | null;
  state_sha: string | null;
  flow_id: string | null;
}

/** The delivery key of a version created from outside (see migration 0004). */
export interface VersionKeysTable {
  object_name: string;
  key: string;
  version_id: number;
  created_at: string;
}

export interface WebhookRefusalsTable {
  id: Generated<number>;
  at: string;
  resource: string;
  status: number;
  code: string;
  reason: string;
  delivery: string | null;
  remote: string | null;
}

export type WebhookRefusalRow = Selectable<WebhookRefusalsTable>;

export interface RunsTable {
  id: Generated<number>;
  job: string;
  number: number;
  status: string;
  status_reason: string | null;
  /** JSON text of a RunTrigger. */
  trigger: string;
  flow: string;
  /** JSON text of RunInput[]. */
  inputs: string;
  /** JSON text of the manual-run parameters. */
  params: string;
  /** JSON text of the names of the secret parameters (`Run.secretParams`). */
  secret_params: string;
  priority: number;
  attempt: number;
  rerun_of: number | null;
  exit_code: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface ExplainsTable {
  id: Generated<number>;
  job: string;
  at: string;
  event: string;
  outcome: string;
  run_id: number | null;
  message: string;
}

export interface EventsTable {
  id: Generated<number>;
  at: string;
  type: string;
  /** JSON text. */
  payload: string;
}

export interface AppliesTable {
  id: Generated<number>;
  at: string;
  source: string;
  /** Who asked (`by` of the domain type; `by` is an SQL keyword). */
  by_name: string;
  dir: string | null;
  /** JSON text of AppliedFile[]. */
  files: string;
  /** JSON text of string[] (the names added, changed, removed, kept). */
  added: string;
  changed: string;
  removed: string;
  kept: string;
  errors: number;
  warnings: number;
  /** JSON text of ApplyProblem[]. */
  problems: string;
}

/** The sources an apply read (migration 0005), one row per apply that recorded them. */
export interface ApplySourcesTable {
  apply_id: number;
  /** JSON text of AppliedSource[]. */
  sources: string;
}

/** The notification outbox (migration 0008). */
export interface NotificationsTable {
  id: Generated<number>;
  created_at: string;
  run_id: number | null;
  job: string;
  event: string;
  resource: string;
  method: string | null;
  target: string;
  /** JSON text of the event's data (NotificationData of core). */
  payload: string;
  state: string;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  delivered_at: string | null;
}

export type ObjectRow = Selectable<ObjectsTable>;
export type NotificationRow = Selectable<NotificationsTable>;
export type PinRow = Selectable<PinsTable>;
export type VersionRow = Selectable<VersionsTable>;
export type RunRow = Selectable<RunsTable>;
export type ExplainRow = Selectable<ExplainsTable>;
export type EventRow = Selectable<EventsTable>;
export type ApplyRow = Selectable<AppliesTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;

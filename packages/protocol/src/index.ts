import { z } from "zod";

// The public wire contract of the HTTP API (under /api/v1) and of the CLI's --json output.
// Shapes here are documented in docs/cli.md and docs/api.md; change them only compatibly.

/** Every run status. */
export const RunStatusSchema = z.enum([
  "waiting",
  "queued",
  "waiting_approval",
  "processing",
  "success",
  "failure",
  "cancelled",
  "timeout",
  "lost",
  "error",
  "skipped",
]);

/** What created a run. */
export const RunTriggerSchema = z.object({
  kind: z.enum(["manual", "version", "upstream", "out", "rerun", "retry", "yaml"]),
  by: z.string(),
  versionId: z.number().int().optional(),
  runId: z.number().int().optional(),
});

/** One frozen input of a run. */
export const RunInputSchema = z.object({
  name: z.string(),
  kind: z.enum(["resource", "job"]),
  type: z.string(),
  versionId: z.number().int().nullable(),
  versionNumber: z.number().int().nullable(),
  versionName: z.string().nullable(),
  pinned: z.boolean(),
});

/** A run, as `causeway runs --json` and `GET /api/v1/runs` give it. */
export const RunSchema = z.object({
  id: z.number().int(),
  job: z.string(),
  number: z.number().int(),
  status: RunStatusSchema,
  statusReason: z.string().nullable(),
  trigger: RunTriggerSchema,
  flow: z.string(),
  inputs: z.array(RunInputSchema),
  params: z.record(z.string(), z.string()),
  priority: z.number().int(),
  attempt: z.number().int(),
  rerunOf: z.number().int().nullable(),
  exitCode: z.number().int().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
/** A run on the wire. */
export type RunJson = z.infer<typeof RunSchema>;

/** A version, as `causeway versions RESOURCE --json` gives it. */
/** A run as a person names it: its job and its number in that job (`build #2`). */
export const RunRefSchema = z.object({ job: z.string(), number: z.number().int() });

export const VersionSchema = z.object({
  id: z.number().int(),
  versionNumber: z.number().int(),
  versionName: z.string(),
  propertyBag: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  createdBy: z.string(),
  runId: z.number().int().nullable(),
  /** The run that created the version, as a person names it (`build #2`), when a run did. */
  run: RunRefSchema.nullable(),
  flow: z.string().nullable(),
  stateSha: z.string().nullable(),
});
/** A version on the wire. */
export type VersionJson = z.infer<typeof VersionSchema>;

/** `POST /api/v1/jobs/:job/runs`: a manual run. */
export const TriggerBodySchema = z.strictObject({
  params: z.record(z.string(), z.string()).optional(),
  pins: z.record(z.string(), z.number().int().positive()).optional(),
  user: z.string().min(1).max(200).optional(),
});
/** The body of a manual run request. */
export type TriggerBody = z.infer<typeof TriggerBodySchema>;

/** `POST /api/v1/objects/:name/versions`: a version from outside. */
export const PutVersionBodySchema = z.strictObject({
  versionName: z.string().max(1000).optional(),
  propertyBag: z.record(z.string(), z.unknown()).optional(),
});
/** The body of a put-version request. */
export type PutVersionBody = z.infer<typeof PutVersionBodySchema>;

/** `PUT /api/v1/jobs/:job/pins/:input`. */
export const PinBodySchema = z.strictObject({ versionNumber: z.number().int().positive() });

/** A source of a line: its name, and its directory or its git URL, branch and commit. */
export const AppliedSourceSchema = z.strictObject({
  name: z.string().min(1).max(200),
  dir: z.string().max(4096).optional(),
  url: z.string().max(4096).optional(),
  branch: z.string().max(1000).optional(),
  commit: z.string().max(100).optional(),
});
/** A source of a line on the wire. */
export type AppliedSourceJson = z.infer<typeof AppliedSourceSchema>;

/** The codes of a file that a client found but did not send (`ApplyBody.unread`). */
export const UNREAD_CODES = ["PIPELINE_FILE_TOO_LARGE", "PIPELINE_DIR_TOO_LARGE", "PIPELINE_FILE_UNREADABLE"] as const;

/**
 * `POST /api/v1/apply`: the files of a pipeline directory (paths relative, `/`-separated), and
 * optionally the directory's absolute path on the server's machine, against which relative
 * `gitRepo` sources (`sourceName: ./app-repo`) are resolved. `unread`: pipeline files the client
 * found but did not send (over a size cap, unreadable): they are refused, so the objects they
 * defined are kept. `source` and `user` say who asks, for the apply history.
 */
export const ApplyBodySchema = z.strictObject({
  files: z.array(z.strictObject({ path: z.string().min(1).max(1000), text: z.string() })).max(5000),
  baseDir: z.string().optional(),
  /**
   * The sources of a line read from several (file paths start with the source's name), or of a
   * line from a git repository: each with its directory on the server's machine, against which
   * its relative `gitRepo` sources are resolved, or its git URL, branch and commit. Recorded in
   * the apply history.
   */
  sources: z.array(AppliedSourceSchema).max(100).optional(),
  unread: z
    .array(
      z.strictObject({
        path: z.string().min(1).max(1000),
        code: z.enum(UNREAD_CODES),
        message: z.string().max(2000),
      }),
    )
    .max(5000)
    .optional(),
  source: z.enum(["api", "cli"]).optional(),
  user: z.string().min(1).max(200).optional(),
});
/** The body of an apply request. */
export type ApplyBody = z.infer<typeof ApplyBodySchema>;

/** A diagnostic in brief: the reason of a refused file, an error of the apply history. */
export const ProblemSchema = z.object({
  code: z.string(),
  severity: z.enum(["error", "warning", "info"]),
  file: z.string(),
  line: z.number(),
  col: z.number(),
  message: z.string(),
});

/**
 * A file of an apply: `loaded` (read as a whole), or `refused` (its YAML does not parse, it is
 * over a cap...: none of its objects is applied, those it defined are kept) with the reason.
 */
export const AppliedFileSchema = z.object({
  path: z.string(),
  status: z.enum(["loaded", "refused"]),
  reason: ProblemSchema.optional(),
});
/** A file of an apply on the wire. */
export type AppliedFileJson = z.infer<typeof AppliedFileSchema>;

/** The answer to an apply. */
export const ApplyResultSchema = z.object({
  ok: z.boolean(),
  applied: z.boolean(),
  added: z.array(z.string()),
  changed: z.array(z.string()),
  removed: z.array(z.string()),
  versioned: z.array(z.string()),
  /** Objects of refused files, kept as they were. */
  kept: z.array(z.string()),
  /** Every file, with its status. */
  files: z.array(AppliedFileSchema),
  /** The id of the apply's entry in the apply history. */
  applyId: z.number().int(),
  diagnostics: z.array(
    z.object({
      code: z.string(),
      severity: z.string(),
      file: z.string(),
      line: z.number(),
      col: z.number(),
      message: z.string(),
      hint: z.string().optional(),
    }),
  ),
});
/** The answer to an apply. */
export type ApplyResult = z.infer<typeof ApplyResultSchema>;

/**
 * The answer to `POST /api/v1/plan` (same body as an apply): what the apply would do, nothing
 * applied. `invalid`: objects that would be inconsistent (an error concerns them) and are not
 * now (or are new): they would never be triggered.
 */
export const PlanResultSchema = z.object({
  ok: z.boolean(),
  added: z.array(z.string()),
  changed: z.array(z.string()),
  removed: z.array(z.string()),
  versioned: z.array(z.string()),
  kept: z.array(z.string()),
  invalid: z.array(z.string()),
  files: z.array(AppliedFileSchema),
  diagnostics: ApplyResultSchema.shape.diagnostics,
});
/** The answer to a plan. */
export type PlanResult = z.infer<typeof PlanResultSchema>;

/** An entry of the apply history, as `GET /api/v1/applies` and `causeway applies --json` give it. */
export const ApplyRecordSchema = z.object({
  id: z.number().int(),
  at: z.string(),
  /**
   * `watcher` (the server's pipeline directories), `api` (`POST /apply`), `cli` (`causeway
   * apply`), `git` (a new commit of a git source of `causeway up`).
   */
  source: z.enum(["watcher", "api", "cli", "git"]),
  by: z.string(),
  dir: z.string().nullable(),
  files: z.array(AppliedFileSchema),
  added: z.array(z.string()),
  changed: z.array(z.string()),
  removed: z.array(z.string()),
  kept: z.array(z.string()),
  errors: z.number().int(),
  warnings: z.number().int(),
  /** The first errors (20 at most). */
  problems: z.array(ProblemSchema),
  /** The sources of the line applied, when the apply named them (a git source with its commit). */
  sources: z.array(AppliedSourceSchema).optional(),
});
/** An entry of the apply history on the wire. */
export type ApplyRecordJson = z.infer<typeof ApplyRecordSchema>;

/** An explain record. */
export const ExplainSchema = z.object({
  id: z.number().int(),
  job: z.string(),
  at: z.string(),
  event: z.string(),
  outcome: z.enum(["created", "skipped", "waiting", "coalesced", "released"]),
  /** The run the decision created or changed (its id, and its number within the job), if any. */
  runId: z.number().int().nullable(),
  runNumber: z.number().int().nullable(),
  /** Why, without the outcome or the event (`input app_repo has switch: off`); may be empty. */
  message: z.string(),
});

/** `GET /api/v1/jobs/:job/why`. */
export const WhySchema = z.object({
  job: z.string(),
  paused: z.boolean(),
  consistent: z.boolean(),
  pins: z.record(z.string(), z.number()),
  pending: z.array(z.object({ run: RunSchema, reason: z.string().nullable() })),
  explains: z.array(ExplainSchema),
});
/** The answer to "why did / didn't this job run". */
export type WhyJson = z.infer<typeof WhySchema>;

/** `GET /api/v1/objects/:name/trace`. */
export const TraceSchema = z.object({
  version: VersionSchema,
  entries: z.array(
    z.object({
      depth: z.number().int(),
      name: z.string(),
      versionNumber: z.number().int(),
      versionName: z.string(),
      createdBy: z.string(),
      createdAt: z.string(),
      runId: z.number().int().nullable(),
      run: RunRefSchema.nullable(),
      flow: z.string().nullable(),
    }),
  ),
});
/** A version's trace. */
export type TraceJson = z.infer<typeof TraceSchema>;

/** `GET /api/v1/jobs/:job/state`: the files of the job's latest state. */
export const StateSchema = z.object({
  job: z.string(),
  runId: z.number().int().nullable(),
  stateSha: z.string().nullable(),
  files: z.array(z.object({ path: z.string(), size: z.number().int(), mode: z.number().int(), sha: z.string() })),
});
/** A job's state. */
export type StateJson = z.infer<typeof StateSchema>;

/** An engine event on the SSE stream (`GET /api/v1/events`), `id` usable as Last-Event-ID. */
export const EventSchema = z.object({
  id: z.number().int(),
  at: z.string(),
  type: z.enum(["run", "version", "definition", "explain", "approval", "audit"]),
  payload: z.record(z.string(), z.unknown()),
});
/** An engine event on the wire. */
export type EventJson = z.infer<typeof EventSchema>;

/** Every error response: a catalog code, a message, the request id; never a stack. */
export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    requestId: z.string(),
    /** What to do about it, when the server knows (the CLI prints it as `hint:`). */
    hint: z.string().optional(),
    details: z.unknown().optional(),
  }),
});
/** An error response. */
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** `GET /api/v1/jobs` and `/resources`: what the server holds. */
export const ObjectSummarySchema = z.object({
  name: z.string(),
  kind: z.enum(["resource", "job"]),
  type: z.string(),
  consistent: z.boolean(),
  paused: z.boolean(),
  latestVersion: z.number().int().nullable(),
  latestRun: z.object({ id: z.number().int(), number: z.number().int(), status: RunStatusSchema }).nullable(),
  /**
   * The file that defines the object, relative to the line (`app/causeway.yml`: for a line of
   * several sources, its first segment is the source); absent when unknown.
   */
  file: z.string().optional(),
});
/** An object summary. */
export type ObjectSummaryJson = z.infer<typeof ObjectSummarySchema>;

/** `<data>/server.json`: how other commands find a running server. */
export const ServerInfoSchema = z.object({ url: z.string(), token: z.string(), pid: z.number().int() });
/** The server's discovery file. */
export type ServerInfo = z.infer<typeof ServerInfoSchema>;

/** The answer to an accepted webhook delivery (`POST /hooks/<resource>`, 200). */
export const HookAnswerSchema = z.object({
  /** `Webhook processed` (Shippable's words) or `Webhook ignored: <why>`. */
  message: z.string(),
  /** The versions the delivery created, or that an earlier delivery with its id created. */
  versions: z.array(z.object({ versionNumber: z.number().int(), versionName: z.string() })),
  /** True when the delivery id was seen before: nothing was created again. */
  duplicate: z.boolean(),
  /** Ids of the runs the new versions created. */
  runs: z.array(z.number().int()),
});
/** The answer to an accepted webhook delivery. */
export type HookAnswer = z.infer<typeof HookAnswerSchema>;

/** A refused webhook delivery, as `causeway webhooks` lists it. */
export const WebhookRefusalSchema = z.object({
  id: z.number().int(),
  at: z.string(),
  resource: z.string(),
  status: z.number().int(),
  code: z.string(),
  reason: z.string(),
  delivery: z.string().nullable(),
  remote: z.string().nullable(),
});
/** A refused webhook delivery on the wire. */
export type WebhookRefusalJson = z.infer<typeof WebhookRefusalSchema>;

/** One webhook endpoint: a `webhook` resource or a hosted `gitRepo`. */
export const WebhookEndpointSchema = z.object({
  resource: z.string(),
  /** `webhook` or `gitRepo`. */
  type: z.string(),
  /** The URL to POST to, on the address the request reached. */
  url: z.string(),
  /** Where the key is read from (`versionTemplate.webhookKey`, `integration NAME`), or null: none, every delivery is refused. */
  keyFrom: z.string().nullable(),
  /** How to call it: a curl command with the key as `$WEBHOOK_KEY`. */
  curl: z.string(),
});
/** A webhook endpoint on the wire. */
export type WebhookEndpointJson = z.infer<typeof WebhookEndpointSchema>;

/** `GET /api/v1/webhooks`: every endpoint, and the latest refused deliveries (newest first). */
export const WebhooksSchema = z.object({
  endpoints: z.array(WebhookEndpointSchema),
  refused: z.array(WebhookRefusalSchema),
});
/** `GET /api/v1/webhooks` on the wire. */
export type WebhooksJson = z.infer<typeof WebhooksSchema>;

/**
 * `POST /api/v1/externalCI`: another CI system reports a build of an `externalCI` job, in
 * Shippable's shape (shippable.md §5.9): `statusCode` 4001 processing, 4002 success, 4003 failure.
 */
export const ExternalCIBodySchema = z.object({
  jobName: z.string().min(1),
  statusCode: z.union([z.literal(4001), z.literal(4002), z.literal(4003)]),
  /** The `externalCIServer` resource the report comes through (Shippable's id; kept, not checked). */
  externalCIServerId: z.union([z.string(), z.number()]).optional(),
  externalBuildUrl: z.string().max(2048).optional(),
  externalBuildId: z.union([z.string().min(1).max(200), z.number()]).optional(),
  /** Key/values of the job's version, read downstream. */
  versionData: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
/** The body of `POST /api/v1/externalCI`. */
export type ExternalCIBody = z.infer<typeof ExternalCIBodySchema>;

/** The answer to `POST /api/v1/externalCI`: the run a final report created (or had created), else null. */
export const ExternalCIAnswerSchema = z.object({
  run: RunSchema.nullable(),
  duplicate: z.boolean(),
});
/** The answer to `POST /api/v1/externalCI`. */
export type ExternalCIAnswer = z.infer<typeof ExternalCIAnswerSchema>;

// ---------------------------------------------------------------------------------------------
// Notifications (the outbox): GET /api/v1/notifications, POST /api/v1/notifications/:id/retry,
// `causeway notifications --json`.

/** Where a delivery is: waiting for an attempt, sent, or given up. */
export const NotificationStateSchema = z.enum(["pending", "delivered", "failed"]);

/** One delivery of the notification outbox: a resource's notification of an event to one target. */
export const NotificationSchema = z.object({
  id: z.number().int(),
  createdAt: z.string(),
  runId: z.number().int().nullable(),
  job: z.string(),
  /** `start`, `success`, `failure`, `cancel`, `notify` (shipctl notify)... */
  event: z.string(),
  resource: z.string(),
  /** webhook, slack or email; null: the integration's `method` field decides. */
  method: z.string().nullable(),
  /** A URL, a `#channel` or `@user`, an address; `""`: the integration's own URL. */
  target: z.string(),
  state: NotificationStateSchema,
  attempts: z.number().int(),
  /** When a pending delivery is tried next; null once delivered or failed. */
  nextAttemptAt: z.string().nullable(),
  /** Why the last attempt failed. */
  lastError: z.string().nullable(),
  deliveredAt: z.string().nullable(),
});
/** A delivery on the wire. */
export type NotificationJson = z.infer<typeof NotificationSchema>;

/** `GET /api/v1/notifications`: deliveries, newest first. */
export const NotificationsSchema = z.object({ notifications: z.array(NotificationSchema) });
/** `GET /api/v1/notifications` on the wire. */
export type NotificationsJson = z.infer<typeof NotificationsSchema>;
// Approval gates and the audit trail (issue 10): POST /runs/:id/approve and /reject,
// GET /runs/:id/approval, GET /approvals, GET /audit, and the `--json` of `causeway approve`,
// `reject` and `audit`.
// ---------------------------------------------------------------------------------------------

/** The most characters a decision's comment may have (core's MAX_APPROVAL_COMMENT). */
export const APPROVAL_COMMENT_MAX = 2000;

/**
 * The body of `POST /api/v1/runs/:id/approve` and `/reject`: an optional comment, at most 2000
 * characters; an empty or blank one is no comment. Who decides is the request's identity
 * (`X-Causeway-User`), never the body.
 */
export const ApprovalBodySchema = z.object({
  comment: z.string().max(APPROVAL_COMMENT_MAX).optional(),
});
/** The body of an approve or reject. */
export type ApprovalBody = z.infer<typeof ApprovalBodySchema>;

/** One decision on a gate: who, approve or reject, the comment, when. `by` is `system` for a timeout. */
export const ApprovalDecisionSchema = z.object({
  by: z.string(),
  verdict: z.enum(["approve", "reject"]),
  comment: z.string().nullable(),
  at: z.string(),
});

/**
 * The state of a run's approval gate: the answer of approve, reject and
 * `GET /api/v1/runs/:id/approval`, and each entry of `GET /api/v1/approvals`. `needed` is the
 * gate's `minApprovals`, `remaining` the approvals still needed (0 once decided), `outcome`
 * `pending`, `approved` or `rejected`; `waitingFor` says it in words (null once decided).
 */
export const ApprovalStateSchema = z.object({
  runId: z.number().int(),
  job: z.string(),
  number: z.number().int(),
  status: RunStatusSchema,
  approvals: z.array(ApprovalDecisionSchema),
  needed: z.number().int(),
  remaining: z.number().int(),
  deadline: z.string(),
  outcome: z.enum(["pending", "approved", "rejected"]),
  approvers: z.array(z.string()),
  onTimeout: z.enum(["reject", "approve"]),
  preventSelfApproval: z.boolean(),
  /** The person who triggered the run's flow, whom preventSelfApproval refuses; null: nobody. */
  requester: z.string().nullable(),
  waitingFor: z.string().nullable(),
});
/** A gate's state on the wire. */
export type ApprovalStateJson = z.infer<typeof ApprovalStateSchema>;

/**
 * One entry of the audit trail (`GET /api/v1/audit`, newest first). Its actions are core's AUDIT_ACTIONS, spelled
 * again since protocol imports nothing internal; `server/test/protocol-core.test.ts` holds them equal.
 */
export const AuditEventSchema = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  action: z.enum([
    "approve",
    "reject",
    "approval-timeout",
    "trigger",
    "rerun",
    "cancel",
    "pause",
    "resume",
    "pin",
    "unpin",
    "apply",
    "token-create",
    "token-revoke",
    "secret-set",
    "secret-delete",
    "secret-rotate-key",
    "runner-token-create",
    "runner-register",
    "runner-drain",
    "runner-activate",
  ]),
  subject: z.string(),
  detail: z.record(z.string(), z.unknown()),
});
/** An audit entry on the wire. */
export type AuditEventJson = z.infer<typeof AuditEventSchema>;

// --- API tokens and roles (issue 11): POST/GET/DELETE /api/v1/tokens ---

/** The roles of API tokens, least first (core's ROLES). */
export const RoleSchema = z.enum(["viewer", "operator", "admin"]);

/** `POST /api/v1/tokens`: a new token's name, role and lifetime in days (none: no expiry). */
export const TokenCreateBodySchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/, "a name of letters, digits and . _ @ -, at most 100"),
  role: RoleSchema,
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});
/** The body of `POST /api/v1/tokens`. */
export type TokenCreateBody = z.infer<typeof TokenCreateBodySchema>;

/** A token as `GET /api/v1/tokens` lists it: never its secret or its hash. */
export const TokenJsonSchema = z.object({
  name: z.string(),
  role: RoleSchema,
  kind: z.enum(["api"]),
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  /** `active`, or why the token is refused. */
  state: z.enum(["active", "revoked", "expired"]),
});
/** A token on the wire. */
export type TokenJson = z.infer<typeof TokenJsonSchema>;

/** The answer to `POST /api/v1/tokens` (201): the secret, shown this once. */
export const TokenCreatedSchema = z.object({
  token: z.string(),
  name: z.string(),
  role: RoleSchema,
  expiresAt: z.string().nullable(),
});
/** A created token. */
export type TokenCreated = z.infer<typeof TokenCreatedSchema>;
// ---------------------------------------------------------------------------------------------
// Secrets: the integration store (issue 11). Values go in (PUT) and never come out.

/** A secret's name and field names, never a value (`GET /api/v1/secrets`, the answer of a PUT). */
export const SecretSummarySchema = z.object({
  name: z.string(),
  fields: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
/** A secret's summary on the wire. */
export type SecretSummaryJson = z.infer<typeof SecretSummarySchema>;

/** `PUT /api/v1/secrets/:name`: the fields, replacing the secret's whole set. */
export const PutSecretRequestSchema = z.object({ fields: z.record(z.string(), z.string()) });
/** The body of a PUT of a secret. */
export type PutSecretRequest = z.infer<typeof PutSecretRequestSchema>;

/** `GET /api/v1/secrets`. */
export const SecretListSchema = z.object({ secrets: z.array(SecretSummarySchema) });
/** The list of secrets on the wire. */
export type SecretListJson = z.infer<typeof SecretListSchema>;

/** `POST /api/v1/secrets/rotate-key`: the new key's id and how many values were re-encrypted. */
export const RotateKeyResultSchema = z.object({
  keyId: z.string(),
  previousKeyId: z.string(),
  resealed: z.number().int(),
});
/** The answer of a key rotation. */
export type RotateKeyResultJson = z.infer<typeof RotateKeyResultSchema>;
export * from "./runner.js";

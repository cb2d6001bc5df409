import { z } from "zod";
import { AuditEventSchema } from "./people.js";
import { RunStatusSchema } from "./run-status.js";

// The public wire contract of the HTTP API (under /api/v1) and of the CLI's --json output.
// Shapes here are documented in docs/cli.md and docs/api.md; change them only compatibly.

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
  /** The lines around `line` as the file read when applied (a code frame): `lines[0]` is `firstLine`. */
  excerpt: z.object({ firstLine: z.number().int(), lines: z.array(z.string()) }).optional(),
});
/** A problem of an apply on the wire. */
export type ProblemJson = z.infer<typeof ProblemSchema>;

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

/** The payload of a `run` event: a run was created or changed status. */
export const RunEventSchema = z.object({
  id: z.number().int(),
  job: z.string(),
  number: z.number().int(),
  status: RunStatusSchema,
  statusReason: z.string().nullable(),
  flow: z.string(),
});

/** The payload of a `version` event: a resource or job has a new version. */
export const VersionEventSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  versionNumber: z.number().int(),
  versionName: z.string().nullable(),
  createdBy: z.string(),
  flow: z.string().nullable(),
});

/**
 * The payload of a `definition` event: a job or resource was added, changed or removed by an
 * apply, or a job paused, resumed, pinned (`pinned <input>@<n>`) or unpinned (`unpinned <input>`).
 */
export const DefinitionEventSchema = z.object({
  name: z.string(),
  kind: z.enum(["job", "resource"]),
  change: z.string(),
});

/** The payload of an `explain` event: a trigger decision (as `GET /jobs/:job/why` lists them). */
export const ExplainEventSchema = ExplainSchema.omit({ runNumber: true });

/** The payload of an `approval` event: a gate opened, or a decision was made on it. */
export const ApprovalEventSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("requested"),
    runId: z.number().int(),
    job: z.string(),
    number: z.number().int(),
    approvers: z.array(z.string()),
    minApprovals: z.number().int(),
    deadline: z.string(),
  }),
  z.object({
    kind: z.literal("decided"),
    runId: z.number().int(),
    job: z.string(),
    number: z.number().int(),
    by: z.string(),
    verdict: z.enum(["approve", "reject"]),
    comment: z.string().nullable(),
    outcome: z.enum(["recorded", "approved", "rejected"]),
  }),
]);

const event = <T extends string, P extends z.ZodType>(type: T, payload: P) =>
  z.object({ id: z.number().int(), at: z.string(), type: z.literal(type), payload });

/**
 * An engine event on the SSE stream (`GET /api/v1/events`), `id` usable as Last-Event-ID: one
 * of a union by `type`, each with its typed payload.
 */
export const EventSchema = z.discriminatedUnion("type", [
  event("run", RunEventSchema),
  event("version", VersionEventSchema),
  event("definition", DefinitionEventSchema),
  event("explain", ExplainEventSchema),
  event("approval", ApprovalEventSchema),
  event("audit", AuditEventSchema),
]);
/** An engine event on the wire. */
export type EventJson = z.infer<typeof EventSchema>;
/** The types of engine events: those of the union, in its order. */
export const EVENT_TYPES: readonly EventJson["type"][] = EventSchema.options.map((o) => o.shape.type.value);

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

/** Who is at fault: the caller (4xx), the environment (5xx, retryable), or Causeway (5xx). */
export type ErrorKind = "user" | "operational" | "internal";

/** The exit codes of the `causeway` command: 0 success, 1 failure of what was asked, 2 usage problem. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

interface CatalogEntry {
  readonly kind: ErrorKind;
  /** The HTTP status of an answer with this code. */
  readonly status: number;
  /** The CLI's exit code when a command ends with this error (default `EXIT.failed`). */
  readonly exit?: 2;
  readonly title: string;
}

/**
 * The one catalog of error codes of Causeway: the API, the CLI, the engine, the store and the
 * runner (the language's diagnostic codes live in diagnostics/codes.ts; a diagnostic is a finding
 * about a file, not an error). Each code is documented in docs/errors.md, which a test keeps in
 * step with this table. A code decides everything about an error that is not its message: its
 * kind (who is at fault), its HTTP status ({@link httpStatusOf}) and the CLI's exit code
 * ({@link exitCodeOf}). Nothing else maps codes to statuses.
 */
export const ERROR_CODES = {
  // Requests and commands
  BAD_REQUEST: { kind: "user", status: 400, title: "The request body or query is invalid" },
  USAGE: { kind: "user", status: 400, exit: 2, title: "A command or the server was called wrongly" },
  UNAUTHORIZED: { kind: "user", status: 401, title: "The API token is missing or wrong" },
  FORBIDDEN_ROLE: { kind: "user", status: 403, title: "The API token's role may not call this route" },
  CSRF_REFUSED: {
    kind: "user",
    status: 403,
    title: "A browser session's request that changes something lacks the X-Causeway-Request header",
  },
  TOKEN_NOT_FOUND: { kind: "user", status: 404, title: "No API token that is not revoked has this name" },
  TOKEN_EXISTS: { kind: "user", status: 409, title: "An API token that is not revoked has this name" },
  NOT_FOUND: { kind: "user", status: 404, title: "No such route" },
  // Remote runners (the runner protocol, /api/runner/v1)
  RUNNER_REGISTRATION_INVALID: {
    kind: "user",
    status: 401,
    title: "The runner registration token is unknown, used, expired or for another pool",
  },
  RUNNER_EXISTS: { kind: "user", status: 409, title: "A runner with this name is registered already" },
  RUNNER_NOT_FOUND: { kind: "user", status: 404, title: "No runner has this name" },
  RUNNER_FENCED: {
    kind: "user",
    status: 409,
    title: "The runner's lease on the run was lost: its epoch is stale, and its report is refused",
  },
  RUNNER_SESSION_REPLACED: { kind: "user", status: 409, title: "A newer process of this runner took over its session" },
  LOG_OFFSET_GAP: { kind: "user", status: 416, title: "A log upload starts past the bytes the server holds" },
  // The line and its runs
  JOB_NOT_FOUND: { kind: "user", status: 404, title: "No job has this name" },
  RESOURCE_NOT_FOUND: { kind: "user", status: 404, title: "No resource has this name" },
  RUN_NOT_FOUND: { kind: "user", status: 404, title: "No run has this id" },
  FLOW_NOT_FOUND: { kind: "user", status: 404, title: "No flow has this id or prefix" },
  FLOW_AMBIGUOUS: { kind: "user", status: 400, exit: 2, title: "A flow id prefix matches several flows" },
  JOB_INCONSISTENT: { kind: "user", status: 409, title: "The job has an error in its definition and cannot run" },
  VERSION_NOT_FOUND: { kind: "user", status: 404, title: "The object has no such version" },
  NOT_AN_INPUT: { kind: "user", status: 400, title: "The name is not an IN of the job" },
  INVALID_PARAM: { kind: "user", status: 400, title: "A manual-run parameter is invalid" },
  JOB_NOT_EXTERNAL: { kind: "user", status: 409, title: "The job is not an externalCI job" },
  RUN_NOT_FINISHED: { kind: "user", status: 409, title: "The run has not finished" },
  RUN_FINISHED: { kind: "user", status: 409, title: "The run has already finished" },
  NOTIFICATION_NOT_FOUND: { kind: "user", status: 404, title: "No notification delivery has this id" },
  NOTIFICATION_NOT_FAILED: {
    kind: "user",
    status: 409,
    title: "Only a failed notification delivery can be retried",
  },
  // Approval gates
  RUN_NOT_WAITING_APPROVAL: { kind: "user", status: 409, title: "The run is not waiting for an approval" },
  APPROVAL_NOT_ALLOWED: { kind: "user", status: 403, title: "The identity may not decide this approval gate" },
  APPROVAL_SELF: { kind: "user", status: 403, title: "A person may not approve a run they triggered" },
  APPROVAL_ALREADY_DECIDED: { kind: "user", status: 409, title: "The identity already decided this approval gate" },
  IDENTITY_INVALID: { kind: "user", status: 400, title: "The X-Causeway-User name cannot be used" },
  GROUPS_INVALID: { kind: "operational", status: 500, title: "The groups file of the data directory cannot be used" },
  PIPELINE_INVALID: { kind: "user", status: 422, title: "The assembly line has errors" },
  UNKNOWN_FLAG: { kind: "user", status: 400, exit: 2, title: "No object of the line has this flag" },
  PROJECT_INVALID: {
    kind: "user",
    status: 400,
    exit: 2,
    title: "The project file or the list of a line's sources is invalid",
  },
  // Webhook endpoints (POST /hooks/<resource>)
  WEBHOOK_UNAUTHORIZED: {
    kind: "user",
    status: 401,
    title: "A webhook delivery has no credentials, or wrong ones",
  },
  WEBHOOK_FORBIDDEN: { kind: "user", status: 403, title: "The webhook has no key to check a delivery against" },
  WEBHOOK_PAYLOAD_TOO_LARGE: { kind: "user", status: 413, title: "A webhook delivery's body is over the cap" },
  WEBHOOK_PAYLOAD_INVALID: { kind: "user", status: 400, title: "A webhook delivery's body or headers cannot be read" },
  // The server and the CLI's way to it
  SERVER_BAD_OPTIONS: { kind: "user", status: 400, exit: 2, title: "The server was given options it cannot use" },
  ADMIN_TOKEN_LOST: {
    kind: "operational",
    status: 503,
    title: "server.json does not hold the admin token of the data directory",
  },
  DATA_DIR_LOCKED: { kind: "operational", status: 503, title: "Another server uses this data directory" },
  WORK_DIR_UNSAFE: {
    kind: "operational",
    status: 503,
    title: "The work directory could be read or redirected by someone else",
  },
  INTEGRATION_INVALID: {
    kind: "operational",
    status: 500,
    title: "An integration's secrets cannot be used as stored",
  },
  // The integration store (encrypted secrets)
  SECRET_NOT_FOUND: { kind: "user", status: 404, title: "No secret has this name" },
  SECRET_INVALID: { kind: "user", status: 400, exit: 2, title: "A secret's name or fields cannot be stored" },
  SECRET_KEY_INVALID: {
    kind: "operational",
    status: 503,
    title: "The secret key cannot decrypt what the store holds, or cannot be read",
  },
  CANNOT_LISTEN: { kind: "operational", status: 503, title: "The server cannot listen on its address and port" },
  SERVER_UNREACHABLE: { kind: "operational", status: 503, title: "The CLI cannot reach the server" },
  TOO_MANY_STREAMS: {
    kind: "operational",
    status: 503,
    title: "The server holds as many event and log streams as it may",
  },
  TOKEN_INVALID: { kind: "user", status: 400, exit: 2, title: "The API token holds characters a request cannot carry" },
  // The store
  STORE_MIGRATION_FAILED: { kind: "operational", status: 503, title: "The database cannot be brought to this schema" },
  STORE_UNSUITABLE_FILESYSTEM: {
    kind: "operational",
    status: 503,
    title: "The data directory's file system cannot hold SQLite in WAL mode",
  },
  STORE_CLOSED: { kind: "internal", status: 500, title: "The store was used after it was closed" },
  STORE_NESTED_TRANSACTION: { kind: "internal", status: 500, title: "The store was called inside its own transaction" },
  STORE_TX_FINISHED: { kind: "internal", status: 500, title: "A transaction was used after it ended" },
  STORE_BAD_ARGUMENT: { kind: "internal", status: 500, title: "The store was given an argument it cannot accept" },
  // The runner
  RUNNER_BAD_OPTIONS: { kind: "user", status: 400, title: "The runner was given options it cannot use" },
  RUNNER_SANDBOX_UNAVAILABLE: {
    kind: "operational",
    status: 503,
    title: "Tasks must run in a sandbox and none can be made here",
  },
  WORKSPACE_INVALID: { kind: "user", status: 400, title: "A run cannot be laid out in its workspace" },
  GIT_FAILED: { kind: "operational", status: 503, title: "A git repository could not be cloned or checked out" },
  ARCHIVE_NOT_FOUND: { kind: "operational", status: 503, title: "A state archive is missing from the blob store" },
  ARCHIVE_CORRUPT: { kind: "operational", status: 503, title: "A state archive does not match its manifest" },
  ARCHIVE_UNSAFE_PATH: {
    kind: "operational",
    status: 503,
    title: "A state archive names a file outside its directory",
  },
  // Disks and logs: a write of the data directory or the work directory failed
  DISK_FULL: { kind: "operational", status: 507, title: "The disk of the data directory is full" },
  STORE_IO_ERROR: { kind: "operational", status: 503, title: "A file of the data directory cannot be written or read" },
  LOG_NOT_FOUND: { kind: "operational", status: 410, title: "The console log of a run that ran is missing" },
  // Anything else
  INTERNAL: { kind: "internal", status: 500, title: "An unexpected error" },
} as const satisfies Record<string, CatalogEntry>;

/** An error code of the catalog. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether a string is a code of the catalog (an answer of another server may carry others). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** The HTTP status of an answer with this code. */
export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

/** The exit code of a CLI command that ends with this error: 2 for usage problems, else 1. */
export function exitCodeOf(code: ErrorCode): number {
  const entry: CatalogEntry = ERROR_CODES[code];
  return entry.exit ?? EXIT.failed;
}

/** What an error may carry besides its code and message. */
export interface CausewayErrorOptions {
  readonly cause?: unknown;
  /** What the person should do about it, one sentence (the CLI prints it as `hint:`). */
  readonly hint?: string;
  /** Structured data for clients (the problems of a request, the candidates of a prefix). */
  readonly details?: unknown;
  /** The id of the failed request, when the error is a server's answer. */
  readonly requestId?: string;
}

/**
 * The one error type of Causeway: an error with a catalog code. `kind`, the HTTP status and the
 * CLI's exit code follow from the code. Anything thrown that is not a CausewayError is a bug, and
 * is reported as `INTERNAL` (with its stack on the server side, and a request to report it).
 */
export class CausewayError extends Error {
  override readonly name = "CausewayError";
  readonly kind: ErrorKind;
  readonly status: number;
  readonly hint: string | undefined;
  readonly details: unknown;
  readonly requestId: string | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: CausewayErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = ERROR_CODES[code].kind;
    this.status = httpStatusOf(code);
    this.hint = options.hint;
    this.details = options.details;
    this.requestId = options.requestId;
  }
}

/** Whether `error` is a CausewayError with one of `codes` (any code when none is given). */
export function isCausewayError(error: unknown, ...codes: readonly ErrorCode[]): error is CausewayError {
  return error instanceof CausewayError && (codes.length === 0 || codes.includes(error.code));
}

/** A usage problem (exit 2): a bad argument or option, said with what was expected. */
export function usageError(message: string, options: CausewayErrorOptions = {}): CausewayError {
  return new CausewayError("USAGE", message, options);
}

/** The message of anything thrown, for a run's status reason or a log line. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

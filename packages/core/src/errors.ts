/** Who is at fault: the caller (4xx), the environment (5xx, retryable), or Causeway (5xx). */
export type ErrorKind = "user" | "operational" | "internal";

/**
 * The catalog of error codes of the API, CLI and engine (the language's diagnostic codes live
 * in diagnostics/codes.ts). Each is documented in docs/errors.md; `status` is its HTTP status.
 */
export const ERROR_CODES = {
  BAD_REQUEST: { kind: "user", status: 400, title: "The request body or query is invalid" },
  UNAUTHORIZED: { kind: "user", status: 401, title: "The API token is missing or wrong" },
  NOT_FOUND: { kind: "user", status: 404, title: "No such route" },
  JOB_NOT_FOUND: { kind: "user", status: 404, title: "No job has this name" },
  RESOURCE_NOT_FOUND: { kind: "user", status: 404, title: "No resource has this name" },
  RUN_NOT_FOUND: { kind: "user", status: 404, title: "No run has this id" },
  JOB_INCONSISTENT: { kind: "user", status: 409, title: "The job has an error in its definition and cannot run" },
  VERSION_NOT_FOUND: { kind: "user", status: 404, title: "The object has no such version" },
  NOT_AN_INPUT: { kind: "user", status: 400, title: "The name is not an IN of the job" },
  INVALID_PARAM: { kind: "user", status: 400, title: "A manual-run parameter is invalid" },
  RUN_NOT_FINISHED: { kind: "user", status: 409, title: "The run has not finished" },
  RUN_FINISHED: { kind: "user", status: 409, title: "The run has already finished" },
  PIPELINE_INVALID: { kind: "user", status: 422, title: "The assembly line has errors" },
  DATA_DIR_LOCKED: { kind: "operational", status: 503, title: "Another server uses this data directory" },
  SERVER_UNREACHABLE: { kind: "operational", status: 503, title: "The CLI cannot reach the server" },
  INTERNAL: { kind: "internal", status: 500, title: "An unexpected error" },
} as const satisfies Record<string, { kind: ErrorKind; status: number; title: string }>;

/** An error code of the catalog. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with a catalog code; `kind` and the HTTP status follow from the code. */
export class CausewayError extends Error {
  override readonly name = "CausewayError";
  readonly kind: ErrorKind;
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.kind = ERROR_CODES[code].kind;
    this.status = ERROR_CODES[code].status;
    this.details = options?.details;
  }

  readonly details: unknown;
}

/** The error codes of the runner, with the kind that decides their log level. */
export const RUNNER_ERROR_CODES = {
  /** `createEmbeddedRunner` was given options it cannot use (every problem is listed). */
  RUNNER_BAD_OPTIONS: "user",
  /** A file name in a state archive is absolute, climbs out with `..`, or holds NUL or `\`. */
  ARCHIVE_UNSAFE_PATH: "operational",
  /** A state archive's manifest is not valid, or a file's bytes do not match it. */
  ARCHIVE_CORRUPT: "operational",
  /** A state archive (or one of its files) is missing from the blob store. */
  ARCHIVE_NOT_FOUND: "operational",
  /** A dependency or a run cannot be materialised in the workspace (bad name, bad parameter). */
  WORKSPACE_INVALID: "user",
  /** A git repository could not be cloned or checked out. */
  GIT_FAILED: "operational",
} as const;

/** A runner error code. */
export type RunnerErrorCode = keyof typeof RUNNER_ERROR_CODES;
/** Who is to blame: the caller (`user`), the environment (`operational`) or a bug (`internal`). */
export type RunnerErrorKind = (typeof RUNNER_ERROR_CODES)[RunnerErrorCode];

/** An error of the runner; tests and callers match on `code`. */
export class RunnerError extends Error {
  override readonly name = "RunnerError";
  readonly code: RunnerErrorCode;
  readonly kind: RunnerErrorKind;

  constructor(code: RunnerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.kind = RUNNER_ERROR_CODES[code];
  }
}

/** The message of anything thrown, for a run's status reason. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

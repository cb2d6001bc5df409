/**
 * The error codes of the store, with the kind that decides their HTTP status and log level.
 * Codes that mean the same as one of the API catalog of core (`RUN_NOT_FOUND`, `JOB_NOT_FOUND`,
 * `DATA_DIR_LOCKED`) have its name; the `STORE_*` ones are the store's own.
 */
export const STORE_ERROR_CODES = {
  /** Another live process (or this one) holds the data directory. */
  DATA_DIR_LOCKED: "operational",
  /** `updateRun` of a run that does not exist. */
  RUN_NOT_FOUND: "user",
  /** `setPaused` of a job that was never defined. */
  JOB_NOT_FOUND: "user",
  /** A call after `close()`. */
  STORE_CLOSED: "internal",
  /** `store.transaction` or `store.read` inside a transaction of the same store (would deadlock). */
  STORE_NESTED_TRANSACTION: "internal",
  /** A transaction object used after its transaction committed or rolled back. */
  STORE_TX_FINISHED: "internal",
  /** The schema could not be brought to the latest version (or is newer than this build). */
  STORE_MIGRATION_FAILED: "operational",
  /** The data directory is on a network file system, or SQLite cannot use WAL mode there. */
  STORE_UNSUITABLE_FILESYSTEM: "operational",
  /** An argument the store cannot accept (a negative log offset, a run id that is not an id). */
  STORE_BAD_ARGUMENT: "internal",
} as const;

/** A store error code. */
export type StoreErrorCode = keyof typeof STORE_ERROR_CODES;
/** Who is to blame: the caller (`user`), the environment (`operational`) or a bug (`internal`). */
export type StoreErrorKind = (typeof STORE_ERROR_CODES)[StoreErrorCode];

/** An error of the store; tests and callers match on `code`. */
export class StoreError extends Error {
  override readonly name = "StoreError";
  readonly code: StoreErrorCode;
  readonly kind: StoreErrorKind;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.kind = STORE_ERROR_CODES[code];
  }
}

/**
 * A failure of what a command was asked to do (the CLI exits with code 1): an error answered by
 * the server, or one found by the CLI. `code` is a code of the error catalog (docs/errors.md).
 */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly hint: string | undefined;
  readonly requestId: string | undefined;
  readonly details: unknown;

  constructor(
    readonly code: string,
    message: string,
    options: { hint?: string; requestId?: string; details?: unknown; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
    this.requestId = options.requestId;
    this.details = options.details;
  }
}

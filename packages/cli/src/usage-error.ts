/** A problem with how a command was called: the CLI exits with code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

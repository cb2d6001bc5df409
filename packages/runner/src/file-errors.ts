/**
 * Gives a failed file system call's error the path it concerns: Node's message names it for an
 * `open` or a `mkdir`, not for a write on an open handle (`ENOSPC: no space left on device,
 * write`). A run's reason then says which file could not be written. Anything that is not a
 * system call's error is returned as it is.
 */
export function withPath(error: unknown, path: string): unknown {
  const e = error as Partial<NodeJS.ErrnoException>;
  if (!(error instanceof Error) || typeof e.code !== "string" || e.path !== undefined) return error;
  e.path = path;
  error.message = `${error.message} '${path}'`;
  return error;
}

/** Whether `error` is a failed system call (it has an errno code such as `ENOSPC`). */
export function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  const code = (error as Partial<NodeJS.ErrnoException> | null)?.code;
  return error instanceof Error && typeof code === "string" && /^E[A-Z0-9]+$/.test(code);
}

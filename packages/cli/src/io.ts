/** Where a command writes, and how it reports its exit code: injected so tests run in-process. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  exitCode(code: number): void;
  readonly color: boolean;
}

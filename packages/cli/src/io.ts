/** Where a command writes, and how it reports its exit code: injected so tests run in-process. */
export interface Io {
  out(text: string): void;
  /** Writes bytes to standard output as they are (`logs --raw`). */
  outBytes(bytes: Uint8Array): void;
  err(text: string): void;
  exitCode(code: number): void;
  readonly color: boolean;
  /** The environment (`CAUSEWAY_SERVER`, `CAUSEWAY_TOKEN`...): only main.ts reads process.env. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Standard output is a terminal: live progress is redrawn in place instead of printed line by line. */
  readonly isTTY: boolean;
  /** The current time (durations, ages, spinner frames). */
  now(): Date;
  /** The working directory: relative paths and the search for `.causeway/server.json` start here. */
  readonly cwd: string;
}

/** What `runCli` needs from its caller; the optional fields default to a quiet, empty environment. */
export type IoOptions = Omit<Io, "exitCode" | "env" | "isTTY" | "now" | "outBytes"> &
  Partial<Pick<Io, "env" | "isTTY" | "now" | "outBytes">>;

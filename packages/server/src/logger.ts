import { pino } from "pino";

/**
 * Structured fields of a log line (a run's id, job and status, an apply's counts...). The text
 * format shows only the message, which says the same for a person; the JSON format has both.
 */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** One line of the server's log: the message a person reads and the fields a machine reads. */
export interface LogLine {
  readonly msg: string;
  readonly fields: LogFields;
}

/**
 * Where the server writes what an operator reads: one line per event (`info`), problems the
 * operator may have to act on (`warn`), and failures (`error`, with the error that caused it).
 * A message that starts with spaces is a detail of the line before it (a diagnostic under its
 * apply): the text format keeps the indent, the JSON format drops it. The composition root
 * builds one with `createLogger`; tests pass a collector.
 */
export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  /** An expected error (kind `user` or `operational`) is shown by its message; any other with its stack. */
  error(msg: string, error?: unknown, fields?: LogFields): void;
}

/** The formats of the server's log: `text` for a person, `json` (pino) for machines. */
export const LOG_FORMATS = ["text", "json"] as const;
/** A log format. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Options of `createLogger`. */
export interface LoggerOptions {
  readonly format: LogFormat;
  /** ANSI colours in the text format (the composition root says yes on a terminal). */
  readonly color?: boolean;
  /** Where `info` lines go (and every JSON line); default the process's stdout. */
  readonly stdout?: (text: string) => void;
  /** Where `warn` and `error` lines of the text format go; default the process's stderr. */
  readonly stderr?: (text: string) => void;
  /** The clock of the text format's `HH:MM:SS` prefix. */
  readonly now?: () => Date;
}

/**
 * An error the operator can fix or expect (a port in use, a locked data directory, a git
 * repository that cannot be read, a data directory that is a file): its message says
 * everything and its stack would only hide it. Errors of every catalog carry a `kind`; a failed
 * system call (`ENOTDIR`, `EACCES`...) is the environment's. Anything else is a bug.
 */
export function isExpectedError(error: unknown): error is Error & { readonly code?: string } {
  if (!(error instanceof Error)) return false;
  if ("kind" in error) return error.kind === "user" || error.kind === "operational";
  return "syscall" in error && typeof error.syscall === "string";
}

/** `CODE: message` of an error (a system error's message already starts with its code). */
export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = codeOf(error);
  if (code === undefined) return error.message;
  return error.message.startsWith(`${code}: `) ? error.message : `${code}: ${error.message}`;
}

/** Creates the logger of a format. */
export function createLogger(options: LoggerOptions): Logger {
  const stdout = options.stdout ?? ((text: string) => void process.stdout.write(text));
  return options.format === "json"
    ? jsonLogger(stdout)
    : textLogger({
        stdout,
        stderr: options.stderr ?? ((text: string) => void process.stderr.write(text)),
        color: options.color ?? false,
        now: options.now ?? (() => new Date()),
      });
}

/** A logger that drops everything. */
export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

const ANSI = { dim: "2", red: "31", green: "32", yellow: "33" } as const;
const FAILED: ReadonlySet<unknown> = new Set(["failure", "error", "timeout", "lost"]);
const QUIET: ReadonlySet<unknown> = new Set(["cancelled", "skipped"]);

function textLogger(o: {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  color: boolean;
  now: () => Date;
}): Logger {
  const paint = (code: string, text: string): string => (o.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const line = (msg: string, tone: string | undefined): string => {
    const d = o.now();
    const time = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
    return `${paint(ANSI.dim, time)} ${tone === undefined ? msg : paint(tone, msg)}\n`;
  };
  // A run that ended badly reads red, one that succeeded green: the eye finds them in a scroll.
  const toneOf = (fields: LogFields | undefined): string | undefined => {
    if (fields?.event !== "run.finished") return undefined;
    if (fields.status === "success") return ANSI.green;
    if (FAILED.has(fields.status)) return ANSI.red;
    return QUIET.has(fields.status) ? ANSI.dim : undefined;
  };
  return {
    info: (msg, fields) => o.stdout(line(msg, toneOf(fields))),
    warn: (msg) => o.stderr(line(msg, ANSI.yellow)),
    error: (msg, error) => {
      if (error === undefined) o.stderr(line(msg, ANSI.red));
      else if (isExpectedError(error) || !(error instanceof Error))
        o.stderr(line(`${msg}: ${errorText(error)}`, ANSI.red));
      else o.stderr(`${line(msg, ANSI.red)}${error.stack ?? `${error.name}: ${error.message}`}\n`);
    },
  };
}

function jsonLogger(stdout: (text: string) => void): Logger {
  const log = pino(
    {
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    { write: stdout },
  );
  return {
    info: (msg, fields) => log.info({ ...fields }, msg.trimStart()),
    warn: (msg, fields) => log.warn({ ...fields }, msg.trimStart()),
    error: (msg, error, fields) => {
      if (error === undefined) log.error({ ...fields }, msg.trimStart());
      else if (isExpectedError(error) || !(error instanceof Error))
        log.error({ ...fields, code: codeOf(error), error: errorText(error) }, msg.trimStart());
      // pino's serializer of `err`: type, message and stack.
      else log.error({ ...fields, err: error }, msg.trimStart());
    },
  };
}

function codeOf(error: unknown): string | undefined {
  if (!(error instanceof Error) || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}

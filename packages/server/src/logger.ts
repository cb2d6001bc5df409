/**
 * Where the server writes what an operator reads: one-line summaries (`info`) and failures
 * (`error`, with the error whose stack stays on the server side). The composition root passes
 * the console; tests pass a collector.
 */
export interface Logger {
  info(line: string): void;
  error(line: string, error?: unknown): void;
}

/** A logger on the console: summaries on stdout, failures (with their stacks) on stderr. */
export const consoleLogger: Logger = {
  info: (line) => console.log(line),
  error: (line, error) => {
    if (error === undefined) console.error(line);
    else console.error(line, error);
  },
};

/** A logger that drops everything. */
export const silentLogger: Logger = { info: () => undefined, error: () => undefined };

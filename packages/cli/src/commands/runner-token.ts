import { usageError } from "@causeway/core";
import { RunnerTokenRequestSchema, type RunnerTokenJson } from "@causeway/protocol";
import type { Command } from "commander";
import { connect, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { jsonText } from "../format.js";
import type { Io } from "../io.js";

const HOURS = RunnerTokenRequestSchema.shape.expiresInHours.unwrap();
const POOL = RunnerTokenRequestSchema.shape.pool.unwrap();
/** The longest life of a registration token, from the protocol's schema. */
const MAX_HOURS = HOURS.maxValue ?? Number.POSITIVE_INFINITY;

/** `--expires H`: a number of hours, `12` or `12h` (`0.5` too), within the protocol's bounds. */
export function expiryHours(text: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)h?$/.exec(text.trim());
  const hours = match === null ? Number.NaN : Number(match[1]);
  if (!HOURS.safeParse(hours).success)
    throw usageError(
      `--expires must be a number of hours, more than 0 and at most ${MAX_HOURS} (12 or 12h), got ${JSON.stringify(text)}`,
    );
  return hours;
}

/** `--pool NAME`: a name the server accepts (letters, digits, `.`, `_`, `-`). */
export function poolName(text: string): string {
  if (!POOL.safeParse(text).success)
    throw usageError(
      `--pool must be 1 to 100 letters, digits, ., _ or - (starting with a letter or digit), got ${JSON.stringify(text)}`,
    );
  return text;
}

/** The server's URL as a runner is given it: without `/api/v1` and trailing slashes. */
export function runnerServerUrl(url: string): string {
  return url.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * What `runner-token create` says on standard error around the token: what was made, then the
 * command that starts a runner with it (the runner is told the pool the token is bound to).
 */
export function runnerTokenText(made: RunnerTokenJson, serverUrl: string): { made: string; start: string } {
  const url = runnerServerUrl(serverUrl);
  const pool = made.pool === null ? "" : ` --pool ${made.pool}`;
  const loopback = LOOPBACK.has(safeHost(url))
    ? "  (this URL is the server's as this machine reaches it: on another machine, give the runner an address it can reach)\n"
    : "";
  return {
    made:
      `created a single-use runner registration token (${made.pool === null ? "any pool" : `pool ${made.pool}`}, ` +
      `expires ${made.expiresAt}); it registers one runner and follows, shown this once:\n`,
    start: `start a runner with it:\n  causeway runner --server ${url} --token ${made.token}${pool}\n${loopback}`,
  };
}

function safeHost(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
}

/** Registers `causeway runner-token create [--pool NAME] [--expires HOURS]` (admin). */
export function registerRunnerToken(program: Command, io: Io): void {
  const runnerToken = program
    .command("runner-token")
    .description("make the single-use tokens that register remote runners (admin)");

  serverCommand(runnerToken, "create", "make a single-use token that registers one runner; shown this once")
    .option("--pool <name>", "the pool the runner joins (default: the one the runner names, else the default pool)")
    .option("--expires <hours>", "refused after this many hours (default: the server's)")
    .action(async (opts: ServerCommandOptions & { pool?: string; expires?: string }) => {
      const pool = opts.pool === undefined ? undefined : poolName(opts.pool);
      const expiresInHours = opts.expires === undefined ? undefined : expiryHours(opts.expires);
      const ctx = await connect(io, opts);
      const made = await ctx.client.createRunnerToken({
        ...(pool === undefined ? {} : { pool }),
        ...(expiresInHours === undefined ? {} : { expiresInHours }),
      });
      if (ctx.json) {
        io.out(jsonText(made));
      } else {
        const text = runnerTokenText(made, ctx.client.target.url);
        io.err(text.made);
        io.out(`${made.token}\n`);
        io.err(text.start);
      }
      io.exitCode(0);
    });
}

import { usageError } from "@causeway/core";
import type { Command } from "commander";
import { ApiClient } from "./client.js";
import { makeStyle, type Style } from "./code-frame.js";
import type { Io } from "./io.js";
import { locateServer } from "./server-location.js";

/** The options every command that talks to the server has. */
export interface ServerCommandOptions {
  readonly json?: boolean;
  readonly server?: string;
  readonly token?: string;
  readonly data?: string;
  /** `--as NAME`: the person the request is made for (default `$USER`). */
  readonly as?: string;
}

/** What a command's action works with. */
export interface CommandContext {
  readonly io: Io;
  readonly client: ApiClient;
  readonly style: Style;
  readonly json: boolean;
}

/** Declares a command that talks to the server, with `--json`, `--server`, `--token`, `--data`, `--as`. */
export function serverCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .option("--json", "print the answer as JSON (the protocol shape, see docs/cli.md)")
    .option("--server <url>", "the server's URL (default: CAUSEWAY_SERVER, else <data>/server.json)")
    .option("--token <token>", "the API token (default: CAUSEWAY_TOKEN, else <data>/server.json)")
    .option("--data <dir>", "the data directory whose server.json names the server (default: ./.causeway)")
    .option("--as <name>", "the person the request is made for, as X-Causeway-User (default: $USER)");
}

/** Finds the server and builds the context of a command's action. */
export async function connect(io: Io, options: ServerCommandOptions): Promise<CommandContext> {
  const user = requestUser(options.as, io.env);
  const target = await locateServer(options, io.env, io.cwd);
  const client = new ApiClient(user === undefined ? target : { ...target, user });
  return { io, client, style: makeStyle(io.color), json: options.json === true };
}

/** The longest name `X-Causeway-User` takes. */
const MAX_USER = 200;

/**
 * Who the requests are made for: `--as NAME` (a name the server would refuse is a usage error),
 * else `$USER` (or `USERNAME`) when it is a name a request can carry, else nobody (the server
 * then says the token's name). Only an admin token's requests are made for the name it claims;
 * the name is claimed, not proven: see docs/api.md.
 */
export function requestUser(
  as: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (as !== undefined) {
    if (!sendableUser(as)) {
      throw usageError(`--as must be a name of 1 to ${MAX_USER} printable characters, got ${JSON.stringify(as)}`);
    }
    return as.trim();
  }
  const fromEnv = env.USER ?? env.USERNAME;
  return fromEnv !== undefined && sendableUser(fromEnv) ? fromEnv.trim() : undefined;
}

// A header value must be Latin-1 without control characters; the server trims it.
function sendableUser(name: string): boolean {
  const trimmed = name.trim();
  return (
    trimmed.length > 0 &&
    trimmed.length <= MAX_USER &&
    [...trimmed].every((ch) => ch >= " " && ch !== "\x7f" && ch <= "\xff")
  );
}

/** A positive integer argument, or a usage error naming `what`. */
export function parsePositiveInt(text: string, what: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text)))
    throw usageError(`${what} must be a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** A run id argument. */
export function parseRunId(text: string): number {
  return parsePositiveInt(text, "a run id");
}

/** Commander's collector for repeatable options (`--param A=1 --param B=2`). */
export function collect(value: string, previous: readonly string[] = []): string[] {
  return [...previous, value];
}

/** Splits `KEY=VALUE` at the first `=`; the key must not be empty. */
export function splitAssignment(text: string, what: string, example: string): [string, string] {
  const at = text.indexOf("=");
  if (at <= 0) throw usageError(`${what} must be ${example}, got ${JSON.stringify(text)}`);
  return [text.slice(0, at), text.slice(at + 1)];
}

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
}

/** What a command's action works with. */
export interface CommandContext {
  readonly io: Io;
  readonly client: ApiClient;
  readonly style: Style;
  readonly json: boolean;
}

/** Declares a command that talks to the server, with `--json`, `--server`, `--token`, `--data`. */
export function serverCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .option("--json", "print the answer as JSON (the protocol shape, see docs/cli.md)")
    .option("--server <url>", "the server's URL (default: CAUSEWAY_SERVER, else <data>/server.json)")
    .option("--token <token>", "the API token (default: CAUSEWAY_TOKEN, else <data>/server.json)")
    .option("--data <dir>", "the data directory whose server.json names the server (default: ./.causeway)");
}

/** Finds the server and builds the context of a command's action. */
export async function connect(io: Io, options: ServerCommandOptions): Promise<CommandContext> {
  const target = await locateServer(options, io.env, io.cwd);
  return { io, client: new ApiClient(target), style: makeStyle(io.color), json: options.json === true };
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

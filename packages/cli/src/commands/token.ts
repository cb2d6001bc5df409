import { randomBytes } from "node:crypto";
import { isRole, MAX_TOKEN_DAYS, ROLES, usageError, type Role } from "@causeway/core";
import type { TokenJson } from "@causeway/protocol";
import type { Command } from "commander";
import type { Style } from "../code-frame.js";
import { connect, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { formatAge, jsonText, table } from "../format.js";
import type { Io } from "../io.js";

/** The API tokens, oldest first: name, role, state, who made it, when it expires and was last used. */
export function tokensText(tokens: readonly TokenJson[], now: Date, style: Style): string {
  if (tokens.length === 0) return "no API tokens\n";
  return table(
    ["NAME", "ROLE", "STATE", "CREATED", "BY", "EXPIRES", "LAST USED"],
    tokens.map((t) => [
      t.name,
      t.role,
      t.state,
      formatAge(t.createdAt, now),
      t.createdBy,
      t.expiresAt ?? "never",
      t.lastUsedAt === null ? "never" : formatAge(t.lastUsedAt, now),
    ]),
    style,
  );
}

/** `--expires D`: a number of days, `30` or `30d`. */
export function expiryDays(text: string): number {
  const match = /^([0-9]+)d?$/.exec(text.trim());
  const days = match === null ? Number.NaN : Number(match[1]);
  if (!Number.isSafeInteger(days) || days < 1 || days > MAX_TOKEN_DAYS)
    throw usageError(
      `--expires must be a number of days from 1 to ${MAX_TOKEN_DAYS} (30 or 30d), got ${JSON.stringify(text)}`,
    );
  return days;
}

/**
 * Registers `causeway token create --role R [--name N] [--expires D]`, `causeway token list` and
 * `causeway token revoke NAME`: the API tokens of the server, managed by an admin.
 */
export function registerToken(program: Command, io: Io): void {
  const token = program.command("token").description("manage the server's API tokens (admin): create, list, revoke");

  serverCommand(token, "create", "create an API token with a role; its secret is printed this once")
    .requiredOption("--role <role>", `what the token may do: ${ROLES.join(", ")}`)
    .option("--name <name>", "its name, the identity of its requests (default: <role>-<random>)")
    .option("--expires <days>", "refused after this many days (default: never)")
    .action(async (opts: ServerCommandOptions & { role: string; name?: string; expires?: string }) => {
      if (!isRole(opts.role))
        throw usageError(`--role must be one of ${ROLES.join(", ")}, got ${JSON.stringify(opts.role)}`);
      const role: Role = opts.role;
      const name = opts.name ?? `${role}-${randomBytes(3).toString("hex")}`;
      const expiresInDays = opts.expires === undefined ? undefined : expiryDays(opts.expires);
      const ctx = await connect(io, opts);
      const made = await ctx.client.createToken({
        name,
        role,
        ...(expiresInDays === undefined ? {} : { expiresInDays }),
      });
      if (ctx.json) {
        io.out(jsonText(made));
      } else {
        io.err(
          `created API token ${made.name} (${made.role}, ${made.expiresAt === null ? "no expiry" : `expires ${made.expiresAt}`}); ` +
            "its secret follows, shown this once: pass it as --token or CAUSEWAY_TOKEN\n",
        );
        io.out(`${made.token}\n`);
      }
      io.exitCode(0);
    });

  serverCommand(token, "list", "list the API tokens: role, state, expiry, last use (never a secret)").action(
    async (opts: ServerCommandOptions) => {
      const ctx = await connect(io, opts);
      const tokens = await ctx.client.tokens();
      io.out(ctx.json ? jsonText(tokens) : tokensText(tokens, io.now(), ctx.style));
      io.exitCode(0);
    },
  );

  serverCommand(token, "revoke", "revoke an API token: it is refused from now on")
    .argument("<name>", "the token's name (the NAME column of `causeway token list`)")
    .action(async (name: string, opts: ServerCommandOptions) => {
      const ctx = await connect(io, opts);
      const revoked = await ctx.client.revokeToken(name);
      io.out(ctx.json ? jsonText(revoked) : `revoked API token ${revoked.name}\n`);
      io.exitCode(0);
    });
}

import type { Command } from "commander";
import { usageError } from "@causeway/core";
import type { SecretSummaryJson } from "@causeway/protocol";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { connect, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { alignRows, dateTime, jsonText } from "../format.js";
import type { Io } from "../io.js";

/** The fields of `secret set`: `--from-file` (a JSON object of strings) then each `--field`, which wins. */
export async function secretFields(
  cwd: string,
  fromFile: string | undefined,
  fieldArgs: readonly string[],
): Promise<Record<string, string>> {
  const fields: Record<string, string> = {};
  if (fromFile !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(resolve(cwd, fromFile), "utf8"));
    } catch (error) {
      throw usageError(`--from-file ${fromFile}: ${(error as Error).message}`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
      throw usageError(`--from-file ${fromFile} must hold one JSON object of string fields`);
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value !== "string")
        throw usageError(`--from-file ${fromFile}: field ${JSON.stringify(key)} must be a string`);
      fields[key] = value;
    }
  }
  for (const arg of fieldArgs) {
    const eq = arg.indexOf("=");
    if (eq <= 0) throw usageError(`--field must be KEY=VALUE or KEY=@FILE, got ${JSON.stringify(arg.slice(0, 40))}`);
    const key = arg.slice(0, eq);
    const value = arg.slice(eq + 1);
    // KEY=@FILE reads the value from a file (an SSH key): no secret on the command line.
    fields[key] = value.startsWith("@") ? await readValueFile(cwd, value.slice(1), key) : value;
  }
  if (Object.keys(fields).length === 0)
    throw usageError("give the secret's fields: --from-file F or --field KEY=VALUE");
  return fields;
}

async function readValueFile(cwd: string, path: string, key: string): Promise<string> {
  try {
    return await readFile(resolve(cwd, path), "utf8");
  } catch (error) {
    throw usageError(`--field ${key}=@${path}: ${(error as Error).message}`);
  }
}

/** The secrets' names and field names, never a value. */
export function secretsText(secrets: readonly SecretSummaryJson[]): string {
  const rows = [
    ["NAME", "FIELDS", "UPDATED"],
    ...secrets.map((s) => [s.name, s.fields.join(","), dateTime(s.updatedAt)]),
  ];
  return `${alignRows(rows).join("\n")}\n`;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Registers `causeway secret set|list|delete|rotate-key`: the integration store. */
export function registerSecret(program: Command, io: Io): void {
  const secret = program
    .command("secret")
    .description("the integration store: secrets jobs and the server use, encrypted at rest (values never shown)");

  serverCommand(secret, "set", "create or replace a secret (its whole set of fields)")
    .argument("<name>", "the secret's name (an integration: name it in integration: or a job's integrations:)")
    .option("--from-file <file>", "a JSON object of string fields")
    .option("--field <key=value>", "a field; KEY=@FILE reads the value from a file (repeatable)", collect, [])
    .action(async (name: string, opts: ServerCommandOptions & { fromFile?: string; field: string[] }) => {
      const fields = await secretFields(io.cwd, opts.fromFile, opts.field);
      const ctx = await connect(io, opts);
      const summary = await ctx.client.setSecret(name, fields);
      if (ctx.json) io.out(jsonText(summary));
      else io.out(`secret ${summary.name} set: ${summary.fields.join(", ")}\n`);
      io.exitCode(0);
    });

  serverCommand(secret, "list", "list the secrets: names and field names").action(
    async (opts: ServerCommandOptions) => {
      const ctx = await connect(io, opts);
      const secrets = await ctx.client.secrets();
      if (ctx.json) io.out(jsonText(secrets));
      else io.out(secrets.length === 0 ? "no secrets\n" : secretsText(secrets));
      io.exitCode(0);
    },
  );

  serverCommand(secret, "delete", "delete a secret")
    .argument("<name>", "the secret's name")
    .action(async (name: string, opts: ServerCommandOptions) => {
      const ctx = await connect(io, opts);
      await ctx.client.deleteSecret(name);
      if (ctx.json) io.out(jsonText({ deleted: name }));
      else io.out(`secret ${name} deleted\n`);
      io.exitCode(0);
    });

  serverCommand(secret, "rotate-key", "re-encrypt every secret under a new key, then replace the key file").action(
    async (opts: ServerCommandOptions) => {
      const ctx = await connect(io, opts);
      const result = await ctx.client.rotateSecretKey();
      if (ctx.json) io.out(jsonText(result));
      else
        io.out(`key ${result.previousKeyId} replaced by ${result.keyId}: ${result.resealed} value(s) re-encrypted\n`);
      io.exitCode(0);
    },
  );
}

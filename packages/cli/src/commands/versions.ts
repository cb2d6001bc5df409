import type { Command } from "commander";
import type { VersionJson } from "@causeway/protocol";
import type { Style } from "../code-frame.js";
import { connect, parsePositiveInt, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { formatAge, jsonText, shortFlow, table } from "../format.js";
import type { Io } from "../io.js";

const MAX_PROPERTIES_WIDTH = 60;

/** A property bag on one line: `a=1 b=x`, cut at 60 characters. */
export function propertiesText(bag: Readonly<Record<string, unknown>>): string {
  const text = Object.entries(bag)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return text.length > MAX_PROPERTIES_WIDTH ? `${text.slice(0, MAX_PROPERTIES_WIDTH - 1)}…` : text;
}

/** The versions table, newest first. */
export function versionsTable(versions: readonly VersionJson[], now: Date, style: Style): string {
  return table(
    ["#", "VERSION NAME", "CREATED", "BY", "RUN", "FLOW", "PROPERTIES"],
    versions.map((v) => [
      String(v.versionNumber),
      v.versionName,
      formatAge(v.createdAt, now),
      v.createdBy,
      v.runId === null ? "-" : String(v.runId),
      shortFlow(v.flow),
      propertiesText(v.propertyBag),
    ]),
    style,
  );
}

/** Registers `causeway versions RESOURCE [--limit N]`. */
export function registerVersions(program: Command, io: Io): void {
  serverCommand(program, "versions", "list the versions of a resource (or job), newest first")
    .argument("<resource>", "the resource or job")
    .option("--limit <n>", "at most this many versions")
    .action(async (name: string, opts: ServerCommandOptions & { limit?: string }) => {
      const limit = opts.limit === undefined ? undefined : parsePositiveInt(opts.limit, "--limit");
      const ctx = await connect(io, opts);
      const versions = await ctx.client.versions(name, limit);
      if (ctx.json) io.out(jsonText(versions));
      else if (versions.length === 0) io.out(`${name} has no version yet\n`);
      else io.out(versionsTable(versions, io.now(), ctx.style));
      io.exitCode(0);
    });
}

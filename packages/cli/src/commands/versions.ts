import type { Command } from "commander";
import type { VersionJson } from "@causeway/protocol";
import type { Style } from "../code-frame.js";
import { connect, parsePositiveInt, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { createdByText, formatAge, jsonText, shortFlow, shortVersionName, table } from "../format.js";
import type { Io } from "../io.js";

const MAX_PROPERTIES_WIDTH = 60;

/** A property bag on one line: `a=1 b=x`, cut at 60 characters unless `wide`. */
export function propertiesText(bag: Readonly<Record<string, unknown>>, wide = false): string {
  const text = Object.entries(bag)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return !wide && text.length > MAX_PROPERTIES_WIDTH ? `${text.slice(0, MAX_PROPERTIES_WIDTH - 1)}…` : text;
}

/**
 * The versions table, newest first. Long version names (a 40-digit commit) and flow ids are
 * shortened, as git shortens commit ids, and long property lists cut, unless `wide`.
 */
export function versionsTable(versions: readonly VersionJson[], now: Date, style: Style, wide = false): string {
  return table(
    ["#", "VERSION NAME", "CREATED", "BY", "RUN ID", "FLOW", "PROPERTIES"],
    versions.map((v) => [
      String(v.versionNumber),
      wide ? v.versionName : shortVersionName(v.versionName),
      formatAge(v.createdAt, now),
      createdByText(v),
      v.runId === null ? "-" : String(v.runId),
      wide ? (v.flow ?? "-") : shortFlow(v.flow),
      propertiesText(v.propertyBag, wide),
    ]),
    style,
  );
}

/** Registers `causeway versions RESOURCE [--limit N]`. */
export function registerVersions(program: Command, io: Io): void {
  serverCommand(program, "versions", "list the versions of a resource (or job), newest first")
    .argument("<resource>", "the resource or job")
    .option("--limit <n>", "at most this many versions")
    .option("--wide", "full version names, flow ids and properties (tables shorten them)")
    .action(async (name: string, opts: ServerCommandOptions & { limit?: string; wide?: boolean }) => {
      const limit = opts.limit === undefined ? undefined : parsePositiveInt(opts.limit, "--limit");
      const ctx = await connect(io, opts);
      const versions = await ctx.client.versions(name, limit);
      if (ctx.json) io.out(jsonText(versions));
      else if (versions.length === 0) io.out(`${name} has no version yet\n`);
      else io.out(versionsTable(versions, io.now(), ctx.style, opts.wide === true));
      io.exitCode(0);
    });
}

import type { Command } from "commander";
import type { TraceJson } from "@causeway/protocol";
import type { Style } from "../code-frame.js";
import { connect, parsePositiveInt, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { createdByText, jsonText, shortFlow, shortVersionName } from "../format.js";
import type { Io } from "../io.js";

/** `RESOURCE[@VERSIONNUMBER]`, split at the last `@`. */
export function parseVersionRef(ref: string): { name: string; versionNumber: number | undefined } {
  const at = ref.lastIndexOf("@");
  if (at <= 0) return { name: ref, versionNumber: undefined };
  return { name: ref.slice(0, at), versionNumber: parsePositiveInt(ref.slice(at + 1), "the version number after @") };
}

/** A version's trace as an indented tree: each entry under the version it led to, by depth. */
export function traceText(name: string, trace: TraceJson, style: Style): string {
  const describe = (n: string, e: TraceJson["entries"][number] | TraceJson["version"]): string => {
    const vname = e.versionName === "" ? "" : ` "${shortVersionName(e.versionName)}"`;
    // A job's version is made by its own run, which its label already names.
    const by = e.run?.job === n ? "" : `by ${createdByText(e)}, `;
    return `${style.bold(`${n} #${e.versionNumber}`)}${vname}  ${style.dim(`(${by}flow ${shortFlow(e.flow)})`)}`;
  };
  const lines = [describe(name, trace.version)];
  for (const e of trace.entries) lines.push(`${"  ".repeat(Math.max(1, e.depth))}<- ${describe(e.name, e)}`);
  return `${lines.join("\n")}\n`;
}

/** Registers `causeway trace RESOURCE[@VERSIONNUMBER]`. */
export function registerTrace(program: Command, io: Io): void {
  serverCommand(program, "trace", "show the versions that led to a version (default: the latest), transitively")
    .argument("<resource>", "RESOURCE or RESOURCE@VERSIONNUMBER")
    .action(async (ref: string, opts: ServerCommandOptions) => {
      const { name, versionNumber } = parseVersionRef(ref);
      const ctx = await connect(io, opts);
      const trace = await ctx.client.trace(name, versionNumber);
      io.out(ctx.json ? jsonText(trace) : traceText(name, trace, ctx.style));
      io.exitCode(0);
    });
}

import type { Command } from "commander";
import { AuditEventSchema, type AuditEventJson } from "@causeway/protocol";
import { usageError } from "@causeway/core";
import type { Style } from "../code-frame.js";
import { connect, parsePositiveInt, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { alignRows, dateTime, jsonText } from "../format.js";
import type { Io } from "../io.js";

/** How many entries `causeway audit` shows without `--limit`. */
const DEFAULT_LIMIT = 50;

const ACTIONS: readonly string[] = AuditEventSchema.shape.action.options;

/** What an entry says besides who, what and to what: a comment, a pin, what an apply changed. */
function detailText(event: AuditEventJson): string {
  const d = event.detail;
  const parts: string[] = [];
  if (typeof d.job === "string" && typeof d.number === "number") parts.push(`${d.job} #${d.number}`);
  if (typeof d.outcome === "string") parts.push(d.outcome);
  if (typeof d.comment === "string") parts.push(JSON.stringify(d.comment));
  if (typeof d.input === "string")
    parts.push(typeof d.versionNumber === "number" ? `${d.input}@${d.versionNumber}` : d.input);
  if (typeof d.reason === "string") parts.push(d.reason);
  if (event.action === "apply") {
    const count = (k: string): number => (Array.isArray(d[k]) ? (d[k] as unknown[]).length : 0);
    parts.push(`${count("added")} added, ${count("changed")} changed, ${count("removed")} removed`);
  }
  return parts.join(" ");
}

/** The audit trail, newest first: when, who, what, to what, and the detail. */
export function auditText(events: readonly AuditEventJson[], style: Style): string {
  const rows = [
    ["WHEN", "ACTOR", "ACTION", "SUBJECT", "DETAIL"],
    ...events.map((e) => [dateTime(e.at), e.actor, e.action, e.subject, detailText(e)]),
  ];
  const [head = "", ...lines] = alignRows(rows);
  return `${[style.bold(head), ...lines].join("\n")}\n`;
}

/** Registers `causeway audit [--action A] [--subject S] [--limit N]`. */
export function registerAudit(program: Command, io: Io): void {
  serverCommand(
    program,
    "audit",
    "list the audit trail, newest first: approvals, manual runs, reruns, cancels, pauses, pins, applies (who, when, what)",
  )
    .option("--action <action>", `only this action (${ACTIONS.join(", ")})`)
    .option("--subject <subject>", "only entries about this subject (run:ID, job:NAME, apply:ID)")
    .option("--limit <n>", `at most this many entries (default ${DEFAULT_LIMIT})`)
    .action(async (opts: ServerCommandOptions & { action?: string; subject?: string; limit?: string }) => {
      if (opts.action !== undefined && !ACTIONS.includes(opts.action)) {
        throw usageError(`--action must be one of ${ACTIONS.join(", ")}, got ${JSON.stringify(opts.action)}`);
      }
      const limit = opts.limit === undefined ? DEFAULT_LIMIT : parsePositiveInt(opts.limit, "--limit");
      const ctx = await connect(io, opts);
      const events = await ctx.client.audit({
        limit,
        ...(opts.action === undefined ? {} : { action: opts.action }),
        ...(opts.subject === undefined ? {} : { subject: opts.subject }),
      });
      if (ctx.json) io.out(jsonText(events));
      else if (events.length === 0) io.out("no audit entries\n");
      else io.out(auditText(events, ctx.style));
      io.exitCode(0);
    });
}

import { usageError } from "@causeway/core";
import type { Command } from "commander";
import { RunStatusSchema, type RunJson } from "@causeway/protocol";
import type { Style } from "../code-frame.js";
import { connect, parsePositiveInt, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { formatAge, jsonText, runDuration, shortFlow, statusText, table, triggerText } from "../format.js";
import type { Io } from "../io.js";

interface RunsOptions extends ServerCommandOptions {
  readonly job?: string;
  readonly flow?: string;
  readonly status?: string;
  readonly limit?: string;
}

const STATUSES: readonly string[] = RunStatusSchema.options;

/** The statuses of `--status a,b` (usage error on an unknown one). */
export function parseStatuses(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const list = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const s of list)
    if (!STATUSES.includes(s)) throw usageError(`--status must be among ${STATUSES.join(", ")}, got ${s}`);
  return list;
}

/** The runs table: id, job, #number, status, trigger, flow (short), created, duration. */
export function runsTable(runs: readonly RunJson[], now: Date, style: Style): string {
  return table(
    ["ID", "JOB", "#", "STATUS", "TRIGGER", "FLOW", "CREATED", "DURATION"],
    runs.map((r) => [
      String(r.id),
      r.job,
      String(r.number),
      statusText(r.status, style),
      triggerText(r.trigger),
      shortFlow(r.flow),
      formatAge(r.createdAt, now),
      runDuration(r, now),
    ]),
    style,
  );
}

/** Registers `causeway runs [--job J] [--flow F] [--status S,...] [--limit N]`. */
export function registerRuns(program: Command, io: Io): void {
  serverCommand(program, "runs", "list runs, newest first")
    .option("--job <job>", "only the runs of this job")
    .option("--flow <flow>", "only the runs of this flow: its id, or any prefix that starts only it")
    .option("--status <statuses>", "only runs with one of these statuses (comma-separated)")
    .option("--limit <n>", "at most this many runs")
    .action(async (opts: RunsOptions) => {
      const status = parseStatuses(opts.status);
      const limit = opts.limit === undefined ? undefined : parsePositiveInt(opts.limit, "--limit");
      const ctx = await connect(io, opts);
      const runs = await ctx.client.runs({
        ...(opts.job === undefined ? {} : { job: opts.job }),
        ...(opts.flow === undefined ? {} : { flow: opts.flow }),
        ...(status === undefined ? {} : { status }),
        ...(limit === undefined ? {} : { limit }),
      });
      if (ctx.json) io.out(jsonText(runs));
      else if (runs.length === 0) io.out("no runs\n");
      else io.out(runsTable(runs, io.now(), ctx.style));
      io.exitCode(0);
    });
}

import type { Command } from "commander";
import type { ApprovalStateJson, RunJson, WhyJson } from "@causeway/protocol";
import type { Style } from "../code-frame.js";
import { connect, parseRunId, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { alignRows, dateTime, jsonText, runLabel, statusText } from "../format.js";
import type { Io } from "../io.js";

/** Why a job did or did not run: its switches, its pending runs and its explain records, newest first. */
export function whyText(why: WhyJson, style: Style): string {
  const flags = [
    why.paused ? style.yellow("paused") : "active",
    why.consistent ? "consistent" : style.red("inconsistent"),
  ];
  const pins = Object.entries(why.pins).map(([k, v]) => `${k}@${v}`);
  if (pins.length > 0) flags.push(`pins: ${pins.join(" ")}`);
  const lines = [`${style.bold(why.job)}: ${flags.join(", ")}`];
  if (why.pending.length === 0) lines.push("no pending run");
  else {
    lines.push("pending:");
    // The run id is what `causeway cancel` and `logs` take, so it is shown here.
    for (const p of why.pending)
      lines.push(
        `  ${runLabel(p.run)} ${statusText(p.run.status, style)}${p.reason === null ? "" : `: ${p.reason}`} ${style.dim(`(id ${p.run.id})`)}`,
      );
  }
  if (why.explains.length === 0) lines.push("no trigger evaluation recorded");
  else {
    lines.push("trigger evaluations (newest first):");
    const explains = [...why.explains].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : b.id - a.id));
    const rows = explains.map((e) => [
      style.dim(dateTime(e.at)),
      outcomeText(e.outcome, style),
      e.runNumber === null ? "" : runLabel({ job: e.job, number: e.runNumber }),
      e.message === "" ? e.event : `${e.event}: ${e.message}`,
    ]);
    lines.push(...alignRows(rows).map((l) => `  ${l}`));
  }
  return `${lines.join("\n")}\n`;
}

/** An explain outcome, coloured like the run status it leads to. */
function outcomeText(outcome: WhyJson["explains"][number]["outcome"], style: Style): string {
  if (outcome === "created" || outcome === "released") return style.green(outcome);
  if (outcome === "skipped") return style.dim(outcome);
  return style.yellow(outcome);
}

/**
 * Why a run waits or ended as it did, in a line: for a run waiting for approval, what its gate
 * waits for ("waiting for approval: 1 of 2 given (alice); may approve: bob, ops; times out at
 * ... → reject"); else its status and reason.
 */
export function runWhyText(run: RunJson, gate: ApprovalStateJson | undefined, style: Style): string {
  const reason = gate?.waitingFor ?? run.statusReason;
  return `${runLabel(run)} ${statusText(run.status, style)}${reason === null ? "" : `: ${reason}`} ${style.dim(`(id ${run.id})`)}\n`;
}

/** Registers `causeway why JOB` and `causeway why RUN` (a run id: all digits). */
export function registerWhy(program: Command, io: Io): void {
  serverCommand(program, "why", "explain why a job did or did not run, or what a run waits for")
    .argument("<job-or-run>", "the job, or a run id")
    .action(async (target: string, opts: ServerCommandOptions) => {
      const ctx = await connect(io, opts);
      if (/^[0-9]+$/.test(target)) {
        const run = await ctx.client.run(parseRunId(target));
        const gate = run.status === "waiting_approval" ? await ctx.client.approval(run.id) : undefined;
        io.out(ctx.json ? jsonText({ run, approval: gate ?? null }) : runWhyText(run, gate, ctx.style));
      } else {
        const why = await ctx.client.why(target);
        io.out(ctx.json ? jsonText(why) : whyText(why, ctx.style));
      }
      io.exitCode(0);
    });
}

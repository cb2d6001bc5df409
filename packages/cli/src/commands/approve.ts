import type { Command } from "commander";
import type { ApprovalStateJson } from "@causeway/protocol";
import type { Style } from "../code-frame.js";
import { connect, parseRunId, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { jsonText, runLabel, statusText } from "../format.js";
import type { Io } from "../io.js";

/**
 * What a decision did to a gate, in a line: `deploy #3: 1 of 2 approvals; waiting for approval:
 * ...`, `deploy #3 approved: queued`, `deploy #3 rejected: cancelled`.
 */
export function approvalText(state: ApprovalStateJson, style: Style): string {
  const label = runLabel({ job: state.job, number: state.number });
  if (state.outcome === "pending") {
    const given = state.needed - state.remaining;
    return `${label}: ${given} of ${state.needed} approvals given; ${state.waitingFor ?? ""}\n`;
  }
  return `${label} ${state.outcome}: ${statusText(state.status, style)}\n`;
}

/** Registers `causeway approve RUN` and `causeway reject RUN`, each with `--comment TEXT`. */
export function registerApprove(program: Command, io: Io): void {
  for (const verdict of ["approve", "reject"] as const) {
    serverCommand(
      program,
      verdict,
      verdict === "approve"
        ? "approve a run waiting for approval (as --as NAME or $USER)"
        : "reject a run waiting for approval: it ends cancelled (as --as NAME or $USER)",
    )
      .argument("<run>", "the run id")
      .option("--comment <text>", "why (at most 2000 characters), kept with the decision and in the audit trail")
      .action(async (id: string, opts: ServerCommandOptions & { comment?: string }) => {
        const runId = parseRunId(id);
        const ctx = await connect(io, opts);
        const state =
          verdict === "approve"
            ? await ctx.client.approve(runId, opts.comment)
            : await ctx.client.reject(runId, opts.comment);
        io.out(ctx.json ? jsonText(state) : approvalText(state, ctx.style));
        io.exitCode(0);
      });
  }
}

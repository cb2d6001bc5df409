import type { RunJson } from "@causeway/protocol";
import type { CommandContext } from "./command-kit.js";
import { jsonText, runLabel, shortFlow } from "./format.js";
import { waitForRun } from "./progress.js";

/**
 * Reports a run just created by `trigger` or `rerun`: prints it, or with `wait` follows it
 * (and the other runs of its flow) to its end. Exit code 0, or with `wait` 0 only on success.
 */
export async function reportStartedRun(ctx: CommandContext, run: RunJson, wait: boolean, verb: string): Promise<void> {
  const { io } = ctx;
  if (!ctx.json) {
    io.out(`${verb} ${runLabel(run)} (id ${run.id}, flow ${shortFlow(run.flow)})\n`);
    // A gated job's run starts only once approved: say so, and how.
    if (run.status === "waiting_approval")
      io.out(
        `  waits for approval: causeway approve ${run.id} (or reject ${run.id}); causeway why ${run.job} says who may\n`,
      );
  }
  if (!wait) {
    if (ctx.json) io.out(jsonText(run));
    io.exitCode(0);
    return;
  }
  const final = await waitForRun(ctx.client, io, ctx.style, run, { show: !ctx.json });
  if (ctx.json) io.out(jsonText(final));
  io.exitCode(final.status === "success" ? 0 : 1);
}

import type { Command } from "commander";
import { connect, parseRunId, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { jsonText, runLabel, statusText } from "../format.js";
import type { Io } from "../io.js";

/** Registers `causeway cancel RUN`. */
export function registerCancel(program: Command, io: Io): void {
  serverCommand(program, "cancel", "cancel a run (its processes get SIGTERM, then SIGKILL)")
    .argument("<run>", "the run id")
    .action(async (id: string, opts: ServerCommandOptions) => {
      const runId = parseRunId(id);
      const ctx = await connect(io, opts);
      const run = await ctx.client.cancel(runId);
      io.out(ctx.json ? jsonText(run) : `cancelled ${runLabel(run)}: ${statusText(run.status, ctx.style)}\n`);
      io.exitCode(0);
    });
}

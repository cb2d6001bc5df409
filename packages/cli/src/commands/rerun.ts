import type { Command } from "commander";
import { connect, parseRunId, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import type { Io } from "../io.js";
import { reportStartedRun } from "../started-run.js";

/** Registers `causeway rerun RUN [--wait]`: a new run with the exact inputs of RUN. */
export function registerRerun(program: Command, io: Io): void {
  serverCommand(program, "rerun", "run a job again with the exact input versions of an earlier run")
    .argument("<run>", "the run id")
    .option("--wait", "follow the new run to its end; exit 0 only if it succeeds")
    .action(async (id: string, opts: ServerCommandOptions & { wait?: boolean }) => {
      const runId = parseRunId(id);
      const ctx = await connect(io, opts);
      const run = await ctx.client.rerun(runId);
      await reportStartedRun(ctx, run, opts.wait === true, `rerun of run ${runId}:`);
    });
}

import type { Command } from "commander";
import { connect, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { jsonText } from "../format.js";
import type { Io } from "../io.js";

/** Registers `causeway pause JOB`: the job creates no run until it is resumed. */
export function registerPause(program: Command, io: Io): void {
  serverCommand(program, "pause", "pause a job: no new run starts until it is resumed")
    .argument("<job>", "the job")
    .action(async (job: string, opts: ServerCommandOptions) => {
      const ctx = await connect(io, opts);
      const answer = await ctx.client.pause(job);
      io.out(ctx.json ? jsonText(answer) : `paused ${job}\n`);
      io.exitCode(0);
    });
}

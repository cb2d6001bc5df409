import type { Command } from "commander";
import { connect, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { jsonText } from "../format.js";
import type { Io } from "../io.js";

/** Registers `causeway resume JOB`. */
export function registerResume(program: Command, io: Io): void {
  serverCommand(program, "resume", "resume a paused job")
    .argument("<job>", "the job")
    .action(async (job: string, opts: ServerCommandOptions) => {
      const ctx = await connect(io, opts);
      const answer = await ctx.client.resume(job);
      io.out(ctx.json ? jsonText(answer) : `resumed ${job}\n`);
      io.exitCode(0);
    });
}

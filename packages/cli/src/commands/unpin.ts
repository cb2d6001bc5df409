import type { Command } from "commander";
import { connect, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { jsonText } from "../format.js";
import type { Io } from "../io.js";

/** Registers `causeway unpin JOB RES`: the job's runs take RES's latest version again. */
export function registerUnpin(program: Command, io: Io): void {
  serverCommand(program, "unpin", "remove the pin of a job's input set by `causeway pin`")
    .argument("<job>", "the job")
    .argument("<resource>", "the pinned input")
    .action(async (job: string, resource: string, opts: ServerCommandOptions) => {
      const ctx = await connect(io, opts);
      const answer = await ctx.client.unpin(job, resource);
      io.out(ctx.json ? jsonText(answer) : `unpinned ${resource} for ${job}\n`);
      io.exitCode(0);
    });
}

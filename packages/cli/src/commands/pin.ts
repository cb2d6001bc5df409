import type { Command } from "commander";
import { connect, parsePositiveInt, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { jsonText } from "../format.js";
import type { Io } from "../io.js";

/** Registers `causeway pin JOB RES VERSIONNUMBER`: the job's runs use that version of RES. */
export function registerPin(program: Command, io: Io): void {
  serverCommand(program, "pin", "pin an input of a job to one version for every run until unpinned")
    .argument("<job>", "the job")
    .argument("<resource>", "the input (a resource or job IN of the job)")
    .argument("<versionNumber>", "the version number to use")
    .action(async (job: string, resource: string, number: string, opts: ServerCommandOptions) => {
      const versionNumber = parsePositiveInt(number, "the version number");
      const ctx = await connect(io, opts);
      const answer = await ctx.client.pin(job, resource, versionNumber);
      io.out(ctx.json ? jsonText(answer) : `pinned ${resource} to version #${versionNumber} for ${job}\n`);
      io.exitCode(0);
    });
}

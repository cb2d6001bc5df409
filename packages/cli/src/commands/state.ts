import type { Command } from "commander";
import type { StateJson } from "@causeway/protocol";
import type { Style } from "../code-frame.js";
import { connect, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { jsonText, table } from "../format.js";
import type { Io } from "../io.js";

/** The files of a job's latest state: path, size, mode, short sha. */
export function stateText(state: StateJson, style: Style): string {
  if (state.stateSha === null) return `${state.job} has no state yet\n`;
  const head = `state of ${state.job}${state.runId === null ? "" : ` from run ${state.runId}`} (${state.stateSha.slice(0, 12)})`;
  if (state.files.length === 0) return `${head}: no files\n`;
  const rows = state.files.map((f) => [
    f.path,
    String(f.size),
    f.mode.toString(8).padStart(4, "0"),
    f.sha.slice(0, 12),
  ]);
  return `${head}\n${table(["PATH", "SIZE", "MODE", "SHA"], rows, style)}`;
}

/** Registers `causeway state JOB`. */
export function registerState(program: Command, io: Io): void {
  serverCommand(program, "state", "list the files of a job's latest state")
    .argument("<job>", "the job")
    .action(async (job: string, opts: ServerCommandOptions) => {
      const ctx = await connect(io, opts);
      const state = await ctx.client.state(job);
      io.out(ctx.json ? jsonText(state) : stateText(state, ctx.style));
      io.exitCode(0);
    });
}

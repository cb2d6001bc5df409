import type { RunnerJson } from "@causeway/protocol";
import type { Command } from "commander";
import { connect, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { jsonText } from "../format.js";
import type { Io } from "../io.js";

/** The subcommands of `causeway runner` that an admin runs; any other use of `runner` starts the runner agent. */
export const RUNNER_ADMIN_COMMANDS = ["drain", "activate"] as const;

function runsText(runs: readonly number[]): string {
  if (runs.length === 0) return "it runs nothing now";
  return runs.length === 1
    ? `it finishes its run (${runs[0]})`
    : `it finishes its ${runs.length} runs (${runs.join(", ")})`;
}

/** What `causeway runner drain` says happened, from the runner the server answered with. */
export function drainedText(runner: RunnerJson): string {
  const what =
    runner.state === "offline"
      ? "it is offline, and takes no runs when it comes back"
      : `${runsText(runner.runs)} and takes no more`;
  return `runner ${runner.name} drains: ${what}; \`causeway runner activate ${runner.name}\` lets it take runs again\n`;
}

/** What `causeway runner activate` says happened, from the runner the server answered with. */
export function activatedText(runner: RunnerJson): string {
  return runner.state === "offline"
    ? `runner ${runner.name} is active, but offline: it takes runs when it comes back\n`
    : `runner ${runner.name} is active: it takes runs (${runner.runs.length} of ${runner.capacity} running now)\n`;
}

/**
 * Adds `drain NAME` and `activate NAME` (admin) to the `causeway runner` command, whose own
 * action is the runner agent: `runner.ts` calls this on its command, and commander runs a
 * subcommand when the first argument is `drain` or `activate`, the agent otherwise. The
 * `runner` command's options then count only before a subcommand (`enablePositionalOptions`, on
 * the program too: `buildProgram`), so the agent's `--server` and `--token` do not take the
 * subcommand's; none of its options may be a `requiredOption` (commander checks those of every
 * parent before a subcommand's action).
 */
export function registerRunnerAdmin(runner: Command, io: Io): void {
  runner.enablePositionalOptions();

  serverCommand(runner, "drain", "let a runner finish its runs and take no more (admin)")
    .argument("<name>", "the runner's name (the NAME column of `causeway runners`)")
    .action(async (name: string, opts: ServerCommandOptions) => {
      const ctx = await connect(io, opts);
      const answer = await ctx.client.drainRunner(name);
      io.out(ctx.json ? jsonText(answer) : drainedText(answer.runner));
      io.exitCode(0);
    });

  serverCommand(runner, "activate", "let a drained runner take runs again (admin)")
    .argument("<name>", "the runner's name (the NAME column of `causeway runners`)")
    .action(async (name: string, opts: ServerCommandOptions) => {
      const ctx = await connect(io, opts);
      const answer = await ctx.client.activateRunner(name);
      io.out(ctx.json ? jsonText(answer) : activatedText(answer.runner));
      io.exitCode(0);
    });
}

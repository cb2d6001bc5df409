import { Command, CommanderError } from "commander";
import { registerGraph } from "./commands/graph.js";
import { registerValidate } from "./commands/validate.js";
import type { Io } from "./io.js";
import { UsageError } from "./usage-error.js";

/** Exit codes of every command: 0 success, 1 failure of what was asked, 2 usage problem. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Builds the CLI program; `main.ts` runs it against the real process. */
export function buildProgram(io: Io): Command {
  const program = new Command("causeway")
    .description("Causeway: assembly lines of versioned resources and jobs")
    .version("0.1.0")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  registerValidate(program, io);
  registerGraph(program, io);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Runs the CLI with `argv` (without node and script), returning the exit code. */
export async function runCli(argv: readonly string[], io: Omit<Io, "exitCode">): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram({ ...io, exitCode: (c) => (code = c) });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (error) {
    // Commander's own exit code says whether help was asked for (--help, help, --version: 0)
    // or shown because of a mistake (no command given: 1); every mistake is a usage problem.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}\n`);
      return EXIT.usage;
    }
    io.err(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.failed;
  }
}

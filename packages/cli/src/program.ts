import { CausewayError, EXIT, exitCodeOf } from "@causeway/core";
import { Command, CommanderError } from "commander";
import { makeStyle, type Style } from "./code-frame.js";
import { registerApplies } from "./commands/applies.js";
import { registerApply } from "./commands/apply.js";
import { registerApprove } from "./commands/approve.js";
import { registerAudit } from "./commands/audit.js";
import { registerSecret } from "./commands/secret.js";
import { registerCancel } from "./commands/cancel.js";
import { registerGraph } from "./commands/graph.js";
import { registerLogs } from "./commands/logs.js";
import { registerPause } from "./commands/pause.js";
import { registerPin } from "./commands/pin.js";
import { registerPlan } from "./commands/plan.js";
import { registerPutVersion } from "./commands/put-version.js";
import { registerRerun } from "./commands/rerun.js";
import { registerResume } from "./commands/resume.js";
import { registerRun } from "./commands/run.js";
import { registerRunners } from "./commands/runners.js";
import { registerRunner } from "./commands/runner.js";
import { registerRunnerToken } from "./commands/runner-token.js";
import { registerRuns } from "./commands/runs.js";
import { registerState } from "./commands/state.js";
import { registerToken } from "./commands/token.js";
import { registerTrace } from "./commands/trace.js";
import { registerTrigger } from "./commands/trigger.js";
import { registerUnpin } from "./commands/unpin.js";
import { registerUp } from "./commands/up.js";
import { registerValidate } from "./commands/validate.js";
import { registerVersions } from "./commands/versions.js";
import { registerWebhooks } from "./commands/webhooks.js";
import { registerNotifications } from "./commands/notifications.js";
import { registerWhy } from "./commands/why.js";
import type { Io, IoOptions } from "./io.js";

export { EXIT } from "@causeway/core";

/** Builds the CLI program; `main.ts` runs it against the real process. */
export function buildProgram(io: Io): Command {
  const program = new Command("causeway")
    .description("Causeway: assembly lines of versioned resources and jobs")
    .version("0.1.0")
    .exitOverride()
    // A command's options follow its name and belong to it, so that `causeway runner drain NAME
    // --server URL` gives --server to `drain`, not to the runner agent (`runner-admin.ts`).
    .enablePositionalOptions()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  registerValidate(program, io);
  registerGraph(program, io);
  registerUp(program, io);
  registerApply(program, io);
  registerPlan(program, io);
  registerApplies(program, io);
  registerTrigger(program, io);
  registerRuns(program, io);
  registerRun(program, io);
  registerLogs(program, io);
  registerCancel(program, io);
  registerRerun(program, io);
  registerPause(program, io);
  registerResume(program, io);
  registerPin(program, io);
  registerUnpin(program, io);
  registerVersions(program, io);
  registerPutVersion(program, io);
  registerState(program, io);
  registerTrace(program, io);
  registerWhy(program, io);
  registerApprove(program, io);
  registerAudit(program, io);
  registerSecret(program, io);
  registerWebhooks(program, io);
  registerNotifications(program, io);
  registerToken(program, io);
  registerRunnerToken(program, io);
  registerRunners(program, io);
  registerRunner(program, io);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Runs the CLI with `argv` (without node and script), returning the exit code. */
export async function runCli(argv: readonly string[], options: IoOptions): Promise<number> {
  let code: number = EXIT.ok;
  const io: Io = {
    ...options,
    env: options.env ?? {},
    isTTY: options.isTTY ?? false,
    now: options.now ?? (() => new Date()),
    outBytes: options.outBytes ?? ((bytes) => options.out(new TextDecoder().decode(bytes))),
    exitCode: (c) => (code = c),
  };
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (error) {
    // Commander's own exit code says whether help was asked for (--help, help, --version: 0)
    // or shown because of a mistake (no command given: 1); every mistake is a usage problem.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const style = makeStyle(io.color);
    if (error instanceof CausewayError) {
      io.err(cliErrorText(error, style));
      if (error.kind === "internal") io.err(`  ${REPORT}\n`);
      return exitCodeOf(error.code);
    }
    // A failed system call (a file that cannot be read, a directory that cannot be listed) is
    // the environment's: its message names the call and the path.
    if (error instanceof Error && "syscall" in error && typeof error.syscall === "string") {
      io.err(`${style.red("error")}: ${error.message}\n`);
      return EXIT.failed;
    }
    // Anything else is a bug of the CLI: its stack helps whoever fixes it.
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    io.err(`${style.red("error INTERNAL")}: ${detail}\n  ${REPORT}\n`);
    return EXIT.failed;
  }
}

const REPORT = "this is a bug in Causeway: please report it, with the command you ran and the text above";

/**
 * `error CODE: message` (`error: message` for a usage problem), then the hint when there is one,
 * and the request id of a failure of the server (not of a user error, which it does not log).
 */
export function cliErrorText(error: CausewayError, style: Style): string {
  // A usage problem reads like commander's own (`error: unknown option '--x'`).
  const lines = [`${style.red(error.code === "USAGE" ? "error" : `error ${error.code}`)}: ${error.message}`];
  if (error.hint !== undefined) lines.push(`  ${style.bold("hint")}: ${error.hint}`);
  // The request id is for finding the server's log lines: they exist for the server's own failures.
  if (error.requestId !== undefined && error.kind !== "user") lines.push(style.dim(`  request id: ${error.requestId}`));
  return `${lines.join("\n")}\n`;
}

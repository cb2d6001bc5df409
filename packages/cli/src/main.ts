import { userInfo } from "node:os";
import { runCli } from "./program.js";

// Who runs the command, for the runs it starts: USER where the shell sets it, else the account
// (a container or a cron job often has no USER).
function whoami(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

// The composition root of the CLI: the only place that touches process streams, the
// environment and exit codes.
const code = await runCli(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  outBytes: (b) => process.stdout.write(b),
  err: (s) => process.stderr.write(s),
  color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
  env: { ...process.env, USER: process.env.USER || process.env.LOGNAME || whoami() },
  isTTY: process.stdout.isTTY === true,
  now: () => new Date(),
  cwd: process.cwd(),
});
process.exitCode = code;

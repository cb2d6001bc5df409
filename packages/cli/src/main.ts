import { runCli } from "./program.js";

// The composition root of the CLI: the only place that touches process streams, the
// environment and exit codes.
const code = await runCli(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  outBytes: (b) => process.stdout.write(b),
  err: (s) => process.stderr.write(s),
  color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
  env: { ...process.env },
  isTTY: process.stdout.isTTY === true,
  now: () => new Date(),
  cwd: process.cwd(),
});
process.exitCode = code;

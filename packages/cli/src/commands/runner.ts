import type { Command } from "commander";
import type { Io } from "../io.js";
import { registerRunnerAdmin } from "./runner-admin.js";
import { resolveMain, runChild } from "./up.js";

/** The runner agent's entry point (the runner package's `./agent` export). */
const AGENT_MAIN = "@causeway/runner/agent";

/** The options of `causeway runner`, passed on to the agent as they were given. */
interface RunnerOptions {
  readonly server?: string;
  readonly token?: string;
  readonly workDir?: string;
  readonly pool?: string;
  readonly labels?: string;
  readonly capacity?: string;
  readonly name?: string;
  readonly sandbox?: string;
  readonly logFlushMs?: string;
}

/** The agent's arguments for the options given. */
export function agentArgs(opts: RunnerOptions): string[] {
  const args: string[] = [];
  const pass = (flag: string, value: string | undefined): void => {
    if (value !== undefined) args.push(flag, value);
  };
  pass("--server", opts.server);
  pass("--token", opts.token);
  pass("--work-dir", opts.workDir);
  pass("--pool", opts.pool);
  pass("--labels", opts.labels);
  pass("--capacity", opts.capacity);
  pass("--name", opts.name);
  pass("--sandbox", opts.sandbox);
  pass("--log-flush-ms", opts.logFlushMs);
  return args;
}

/**
 * Registers `causeway runner --server URL [--token T] …` (a remote runner: the agent, as a
 * process of its own, docs/runners.md) and its admin subcommands `drain` and `activate`. No
 * option is required by commander: the agent checks its own (a required one would be checked
 * before `drain` too).
 */
export function registerRunner(program: Command, io: Io): void {
  const runner = program
    .command("runner")
    .description("run a remote runner that takes jobs from a server (drain|activate NAME: admin)")
    .option("--server <url>", "the Causeway server's URL (as causeway up prints it)")
    .option("--token <token>", "a registration token (causeway runner-token create); first start only")
    .option("--work-dir <dir>", "the runner's directory: credential, workspaces, spool (default ./causeway-runner)")
    .option("--pool <name>", "the pool it serves: jobs with runtime.nodePool NAME (default: the default pool)")
    .option("--labels <a,b>", "labels it reports")
    .option("--capacity <n>", "runs executed at once (default 1)")
    .option("--name <name>", "its name (default: the host name)")
    .option("--sandbox <mode>", "auto (default: where bwrap works), off or required: each task in a bubblewrap sandbox")
    .option("--log-flush-ms <ms>", "how long console bytes may wait in the spool before an upload (default 1000)")
    .action(async (opts: RunnerOptions) => {
      const main = resolveMain(AGENT_MAIN, "the runner agent", "@causeway/runner");
      io.exitCode(await runChild(main, agentArgs(opts), io.env, "the runner agent"));
    });
  registerRunnerAdmin(runner, io);
}

import type { Command } from "commander";
import type { TriggerBody } from "@causeway/protocol";
import {
  collect,
  connect,
  parsePositiveInt,
  serverCommand,
  splitAssignment,
  type ServerCommandOptions,
} from "../command-kit.js";
import type { Io } from "../io.js";
import { reportStartedRun } from "../started-run.js";

interface TriggerOptions extends ServerCommandOptions {
  readonly param?: string[];
  readonly pin?: string[];
  readonly wait?: boolean;
}

/** The body of a manual run from `--param K=V` and `--pin RES=VERSIONNUMBER` (usage errors on bad ones). */
export function triggerBody(params: readonly string[], pins: readonly string[], user: string | undefined): TriggerBody {
  const body: { params?: Record<string, string>; pins?: Record<string, number>; user?: string } = {};
  for (const p of params) {
    const [k, v] = splitAssignment(p, "--param", "KEY=VALUE");
    (body.params ??= {})[k] = v;
  }
  for (const p of pins) {
    const [res, n] = splitAssignment(p, "--pin", "RESOURCE=VERSIONNUMBER");
    (body.pins ??= {})[res] = parsePositiveInt(n, `the version number of --pin ${res}`);
  }
  if (user !== undefined && user !== "" && user.length <= 200) body.user = user;
  return body;
}

/** Registers `causeway trigger JOB [--param K=V ...] [--pin RES=VERSIONNUMBER ...] [--wait]`. */
export function registerTrigger(program: Command, io: Io): void {
  serverCommand(program, "trigger", "start a run of a job by hand")
    .argument("<job>", "the job to run")
    .option("--param <KEY=VALUE>", "a parameter of this run (repeatable)", collect)
    .option("--pin <RESOURCE=VERSIONNUMBER>", "use this version of an input for this run only (repeatable)", collect)
    .option("--wait", "follow the run to its end; exit 0 only if it succeeds")
    .action(async (job: string, opts: TriggerOptions) => {
      const body = triggerBody(opts.param ?? [], opts.pin ?? [], io.env.USER ?? io.env.USERNAME);
      const ctx = await connect(io, opts);
      const run = await ctx.client.trigger(job, body);
      await reportStartedRun(ctx, run, opts.wait === true, "triggered");
    });
}

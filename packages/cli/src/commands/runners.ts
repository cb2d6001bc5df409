import type { RunnerJson } from "@causeway/protocol";
import type { Command } from "commander";
import type { Style } from "../code-frame.js";
import { connect, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { formatAge, jsonText, table } from "../format.js";
import type { Io } from "../io.js";

/** A runner's state coloured: draining in yellow, offline in red. */
export function runnerStateText(state: RunnerJson["state"], style: Style): string {
  if (state === "active") return style.green(state);
  if (state === "draining") return style.yellow(state);
  return style.red(state);
}

/** The runners as the server lists them: pool, labels, capacity, state, the runs they execute, when last seen. */
export function runnersText(runners: readonly RunnerJson[], now: Date, style: Style): string {
  if (runners.length === 0)
    return "no runners: `causeway runner-token create` makes a token that registers one (docs/cli.md)\n";
  return table(
    ["NAME", "POOL", "LABELS", "CAPACITY", "STATE", "RUNS", "LAST SEEN"],
    runners.map((r) => [
      r.name,
      r.pool,
      r.labels.length === 0 ? "-" : r.labels.join(","),
      String(r.capacity),
      runnerStateText(r.state, style),
      r.runs.length === 0 ? "-" : r.runs.join(","),
      r.lastSeenAt === null ? "never" : formatAge(r.lastSeenAt, now),
    ]),
    style,
  );
}

/** Registers `causeway runners`: the remote runners, their state and their runs (viewer). */
export function registerRunners(program: Command, io: Io): void {
  serverCommand(program, "runners", "list the remote runners: pool, labels, capacity, state, runs, last seen").action(
    async (opts: ServerCommandOptions) => {
      const ctx = await connect(io, opts);
      const list = await ctx.client.runners();
      io.out(ctx.json ? jsonText(list) : runnersText(list.runners, io.now(), ctx.style));
      io.exitCode(0);
    },
  );
}

import type { Command } from "commander";
import { ConsoleParser, type ConsoleModel } from "@causeway/core";
import type { RunJson } from "@causeway/protocol";
import type { Style } from "../code-frame.js";
import { connect, parseRunId, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { stepsTable } from "../console-view.js";
import {
  dateTime,
  formatAge,
  isFinalStatus,
  jsonText,
  runDuration,
  runLabel,
  shortVersionName,
  statusText,
  table,
  triggerText,
} from "../format.js";
import type { Io } from "../io.js";

/** The details of a run: status, trigger, flow, times, parameters and the frozen inputs. */
export function runDetails(run: RunJson, now: Date, style: Style): string {
  const lines: string[] = [
    `${style.bold(runLabel(run))}  ${statusText(run.status, style)}  ${style.dim(`(id ${run.id})`)}`,
  ];
  const field = (name: string, value: string): void => void lines.push(`  ${name.padEnd(10)} ${value}`);
  if (run.statusReason !== null) field("reason", run.statusReason);
  field("trigger", triggerText(run.trigger));
  field("flow", run.flow);
  field("created", `${dateTime(run.createdAt)} (${formatAge(run.createdAt, now)})`);
  if (run.startedAt !== null) field("started", dateTime(run.startedAt));
  if (run.finishedAt !== null) field("finished", dateTime(run.finishedAt));
  if (run.startedAt !== null) field("duration", runDuration(run, now));
  if (run.exitCode !== null) field("exit code", String(run.exitCode));
  if (run.attempt > 1) field("attempt", String(run.attempt));
  field("priority", String(run.priority));
  if (run.rerunOf !== null) field("rerun of", `run id ${run.rerunOf}`);
  const params = Object.entries(run.params);
  if (params.length > 0) field("params", params.map(([k, v]) => `${k}=${v}`).join(" "));
  if (run.inputs.length === 0) lines.push("  no inputs");
  else {
    lines.push("", "inputs:");
    const rows = run.inputs.map((i) => [
      i.name,
      i.kind,
      i.type,
      i.versionNumber === null ? "-" : `#${i.versionNumber}`,
      shortVersionName(i.versionName ?? ""),
      i.pinned ? "pinned" : "",
    ]);
    const text = table(["NAME", "KIND", "TYPE", "VERSION", "VERSION NAME", ""], rows, style);
    lines.push(
      ...text
        .trimEnd()
        .split("\n")
        .map((l) => `  ${l}`),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The groups and commands of a run's console, with exit codes and durations; "" when none. */
export function runSteps(model: ConsoleModel, style: Style): string {
  const text = stepsTable(model, style);
  if (text === "") return "";
  const rows = text
    .trimEnd()
    .split("\n")
    .map((l) => `  ${l}`);
  return `\nsteps:\n${rows.join("\n")}\n`;
}

/** Registers `causeway run ID`. */
export function registerRun(program: Command, io: Io): void {
  serverCommand(program, "run", "show a run: status, trigger, flow, times, frozen inputs and its steps")
    .argument("<id>", "the run id")
    .action(async (id: string, opts: ServerCommandOptions) => {
      const runId = parseRunId(id);
      const ctx = await connect(io, opts);
      const run = await ctx.client.run(runId);
      if (ctx.json) io.out(jsonText(run));
      else {
        // The steps come from the console: the log read after the run, so a final run's is whole.
        const parser = new ConsoleParser();
        parser.push((await ctx.client.logs(runId, 0)).text);
        if (isFinalStatus(run.status)) parser.end();
        io.out(runDetails(run, io.now(), ctx.style) + runSteps(parser.model, ctx.style));
      }
      io.exitCode(0);
    });
}

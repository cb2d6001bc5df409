import type { Command } from "commander";
import type { PlanResult } from "@causeway/protocol";
import type { Style } from "../code-frame.js";
import { connect, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { jsonText } from "../format.js";
import type { Io } from "../io.js";
import { withBranch } from "../line-sources.js";
import { diagnosticBlocks, lineFailed, prepareLine } from "./apply.js";

/**
 * What an apply would do, nothing applied: `plan: 1 to add, 1 to change, 1 to remove; 1 newly
 * invalid`, then `+ added`, `~ changed`, `- removed`, `! newly invalid`, each refused file, the
 * kept objects and the resources that would get a version from their definition.
 */
export function planSummary(plan: PlanResult, style: Style): string {
  const counts = `${plan.added.length} to add, ${plan.changed.length} to change, ${plan.removed.length} to remove`;
  const invalid = plan.invalid.length === 0 ? "" : `; ${style.red(`${plan.invalid.length} newly invalid`)}`;
  const lines = [`${style.bold("plan")}: ${counts}${invalid}`];
  for (const n of plan.added) lines.push(`  ${style.green("+")} ${n}`);
  for (const n of plan.changed) lines.push(`  ${style.yellow("~")} ${n}`);
  for (const n of plan.removed) lines.push(`  ${style.red("-")} ${n}`);
  for (const n of plan.invalid) lines.push(`  ${style.red("!")} ${n}: has an error, would never be triggered`);
  for (const f of plan.files.filter((f) => f.status === "refused")) {
    const why =
      f.reason === undefined
        ? ""
        : `: ${f.reason.file}:${f.reason.line}:${f.reason.col} ${f.reason.code} ${f.reason.message}`;
    lines.push(`  ${style.red("✗")} ${f.path}${why} (refused: what it defines would be kept as it is)`);
  }
  if (plan.kept.length > 0) lines.push(`would be kept as they are: ${plan.kept.join(", ")}`);
  if (plan.versioned.length > 0) lines.push(`new versions from YAML: ${plan.versioned.join(", ")}`);
  lines.push(style.dim("nothing applied"));
  return `${lines.join("\n")}\n`;
}

/** Registers `causeway plan DIR|URL…`: what `causeway apply DIR|URL…` would do, without doing it. */
export function registerPlan(program: Command, io: Io): void {
  serverCommand(program, "plan", "preview an apply: what would be added, changed, removed and newly invalid")
    .argument("<sources...>", "pipeline directories, git URLs (URL#branch) or projects (causeway.project.yml)")
    .option("--branch <branch>", "the branch of the git URLs that name none (URL#branch does too)")
    .action(async (args: string[], opts: ServerCommandOptions & { branch?: string }) => {
      const line = await prepareLine(withBranch(args, opts.branch), io, "planned");
      if (line === undefined) return;
      const ctx = await connect(io, opts);
      const plan = await ctx.client.plan(line.body);
      if (ctx.json) io.out(jsonText(plan));
      else io.out(diagnosticBlocks(plan.diagnostics, line, ctx.style) + planSummary(plan, ctx.style));
      io.exitCode(lineFailed(plan) ? 1 : 0);
    });
}

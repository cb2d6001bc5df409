import type { Command } from "commander";
import type { ApplyResult } from "@causeway/protocol";
import { makeStyle, type Style } from "../code-frame.js";
import { connect, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { jsonText } from "../format.js";
import type { Io } from "../io.js";
import { loadDir } from "../pipeline-dir.js";
import { renderDiagnostic } from "./validate.js";

/** What an apply changed: `+ added`, `~ changed`, `- removed`, and the counts. */
export function applySummary(result: ApplyResult, style: Style): string {
  const counts = `${result.added.length} added, ${result.changed.length} changed, ${result.removed.length} removed`;
  const lines = [
    result.applied
      ? `${style.bold("applied")}: ${counts}`
      : `${style.red(style.bold("not applied"))}: the line has errors`,
  ];
  for (const n of result.added) lines.push(`  ${style.green("+")} ${n}`);
  for (const n of result.changed) lines.push(`  ${style.yellow("~")} ${n}`);
  for (const n of result.removed) lines.push(`  ${style.red("-")} ${n}`);
  if (result.versioned.length > 0) lines.push(`new versions from YAML: ${result.versioned.join(", ")}`);
  return `${lines.join("\n")}\n`;
}

/** Registers `causeway apply DIR`: sends the line's files to the server, which applies them. */
export function registerApply(program: Command, io: Io): void {
  serverCommand(program, "apply", "send an assembly line to the server: add, change and remove its resources and jobs")
    .argument("<dir>", "pipeline directory")
    .action(async (dir: string, opts: ServerCommandOptions) => {
      // Loaded here first: the same file rules and size caps as `validate`, and code frames
      // for the diagnostics from the texts actually sent.
      const { root, result: local, texts } = await loadDir(dir, io.cwd);
      if (texts.size === 0) {
        // PIPELINE_NO_FILES (or the size caps) say why: nothing is sent, the server keeps the line.
        const style = makeStyle(io.color);
        const blocks = local.diagnostics.map((d) => renderDiagnostic(d, texts.get(d.file), style));
        io.out(`${blocks.join("\n\n")}\n\n${style.red(style.bold("not applied"))}: no pipeline file in ${dir}\n`);
        io.exitCode(1);
        return;
      }
      const ctx = await connect(io, opts);
      const files = [...texts].map(([path, text]) => ({ path, text }));
      // The directory's absolute path: the server resolves relative gitRepo sources against
      // it (meaningful when the server shares this filesystem, as with `causeway up`).
      const result = await ctx.client.apply({ files, baseDir: root });
      const failed =
        !result.ok ||
        local.diagnostics.some((d) => d.severity === "error") ||
        result.diagnostics.some((d) => d.severity === "error");
      if (ctx.json) io.out(jsonText(result));
      else {
        const blocks = local.diagnostics.map((d) => renderDiagnostic(d, texts.get(d.file), ctx.style));
        // The server may find more than the local load (it knows what is already applied).
        for (const d of result.diagnostics) {
          if (local.diagnostics.some((l) => sameDiagnostic(l, d))) continue;
          const hint = d.hint === undefined ? "" : `\n  ${ctx.style.bold("hint")}: ${d.hint}`;
          blocks.push(
            `${d.severity} ${d.code}: ${d.message}\n${ctx.style.dim(`  at ${d.file}:${d.line}:${d.col}`)}${hint}`,
          );
        }
        if (blocks.length > 0) io.out(`${blocks.join("\n\n")}\n\n`);
        io.out(applySummary(result, ctx.style));
      }
      io.exitCode(failed ? 1 : 0);
    });
}

type Located = Pick<ApplyResult["diagnostics"][number], "code" | "file" | "line" | "col">;

function sameDiagnostic(a: Located, b: Located): boolean {
  return a.code === b.code && a.file === b.file && a.line === b.line && a.col === b.col;
}

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { usageError, type Diagnostic, type LoadResult } from "@causeway/core";
import { codeFrame, makeStyle, type Style } from "../code-frame.js";
import { loadDir } from "../pipeline-dir.js";
import type { Io } from "../io.js";

/** The JSON output of `causeway validate --format json` (a public contract: docs/cli.md). */
export interface ValidateJson {
  ok: boolean;
  files: readonly string[];
  diagnostics: {
    code: string;
    severity: string;
    file: string;
    line: number;
    col: number;
    endLine: number;
    endCol: number;
    path: string;
    message: string;
    hint?: string;
  }[];
  summary: { resources: number; jobs: number; edges: number };
}

/** Builds the JSON output of a load. */
export function validateJson(result: LoadResult): ValidateJson {
  return {
    ok: result.ok,
    files: result.files,
    diagnostics: result.diagnostics.map((d) => ({
      code: d.code,
      severity: d.severity,
      file: d.file,
      line: d.line,
      col: d.col,
      endLine: d.endLine,
      endCol: d.endCol,
      path: d.path,
      message: d.message,
      ...(d.hint === undefined ? {} : { hint: d.hint }),
    })),
    summary: result.summary,
  };
}

/** Registers `causeway validate [DIR] [--format text|json]`. */
export function registerValidate(program: Command, io: Io): void {
  program
    .command("validate")
    .description("check an assembly line and print every diagnostic with its location")
    .argument("[dir]", "pipeline directory", ".")
    .option("--format <format>", "text or json", "text")
    .action(async (dir: string, opts: { format: string }) => {
      if (opts.format !== "text" && opts.format !== "json")
        throw usageError(`--format must be text or json, got ${opts.format}`);
      const { root, result } = await loadDir(dir);
      if (opts.format === "json") io.out(`${JSON.stringify(validateJson(result), null, 2)}\n`);
      else io.out(await renderText(root, result, makeStyle(io.color)));
      io.exitCode(result.ok ? 0 : 1);
    });
}

const LABEL = { error: "error", warning: "warning", info: "info" } as const;

async function renderText(root: string, result: LoadResult, style: Style): Promise<string> {
  const texts = new Map<string, string | undefined>();
  const textOf = async (file: string): Promise<string | undefined> => {
    if (!texts.has(file)) texts.set(file, await readFile(join(root, file), "utf8").catch(() => undefined));
    return texts.get(file);
  };
  const blocks: string[] = [];
  for (const d of result.diagnostics) blocks.push(renderDiagnostic(d, await textOf(d.file), style));
  const counts = { error: 0, warning: 0, info: 0 };
  for (const d of result.diagnostics) counts[d.severity]++;
  const s = result.summary;
  const verdict = result.ok ? style.bold("valid") : style.red(style.bold("invalid"));
  blocks.push(
    `${verdict}: ${result.files.length} files, ${s.resources} resources, ${s.jobs} jobs, ${s.edges} edges; ` +
      `${counts.error} errors, ${counts.warning} warnings, ${counts.info} infos`,
  );
  return `${blocks.join("\n\n")}\n`;
}

/** One diagnostic: severity and code, message, location, code frame and hint. */
export function renderDiagnostic(d: Diagnostic, text: string | undefined, style: Style): string {
  const colour = d.severity === "error" ? style.red : d.severity === "warning" ? style.yellow : style.blue;
  const head = `${colour(`${LABEL[d.severity]} ${d.code}`)}: ${d.message}`;
  const where = style.dim(`  at ${d.file}:${d.line}:${d.col}${d.path === "" ? "" : `  (${d.path})`}`);
  const frame = codeFrame(text, d, style);
  const hint = d.hint === undefined ? "" : `\n  ${style.bold("hint")}: ${d.hint}`;
  return `${head}\n${where}${frame === "" ? "" : `\n${frame}`}${hint}`;
}

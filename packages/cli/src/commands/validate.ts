import { stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import type { Command } from "commander";
import {
  groupDiagnostics,
  isGitUrl,
  PROJECT_FILE_NAME,
  readiness,
  usageError,
  type Diagnostic,
  type DiagnosticGroup,
  type LoadResult,
  type NotRunnable,
  type Readiness,
} from "@causeway/core";
import { codeFrame, makeStyle, type Style } from "../code-frame.js";
import { jsonText } from "../format.js";
import type { Io } from "../io.js";
import { tempClones } from "../git-clone.js";
import { resolveSources, withBranch } from "../line-sources.js";
import { loadSources, loadTarget, type LoadedDir } from "../pipeline-dir.js";

/** The JSON output of `causeway validate --json` (a public contract: docs/cli.md). */
export interface ValidateJson {
  ok: boolean;
  /** The one file validated, when a file was given rather than a directory. */
  file?: string;
  files: readonly string[];
  /** The files not read as a whole (none of their objects loaded), with the problem that refused each. */
  refused: { path: string; code: string; file: string; line: number; col: number; message: string }[];
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
    subject?: string;
  }[];
  summary: { resources: number; jobs: number; edges: number };
  /** The jobs that will run when triggered, and those that will not with why. */
  jobs: { runnable: readonly string[]; notRunnable: readonly NotRunnable[] };
}

/** Builds the JSON output of a load: every diagnostic, ungrouped. */
export function validateJson(result: LoadResult, file?: string): ValidateJson {
  return {
    ok: result.ok,
    ...(file === undefined ? {} : { file }),
    files: result.files,
    refused: result.refused.map(({ path, reason: r }) => ({
      path,
      code: r.code,
      file: r.file,
      line: r.line,
      col: r.col,
      message: r.message,
    })),
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
      ...(d.subject === undefined ? {} : { subject: d.subject }),
    })),
    summary: result.summary,
    jobs: readiness(result.pipeline),
  };
}

/** Registers `causeway validate [PATH|URL…] [--format text|json] [--json]`. */
export function registerValidate(program: Command, io: Io): void {
  program
    .command("validate")
    .description("check an assembly line (a directory, or one file of it) and print every diagnostic with its location")
    .argument(
      "[paths...]",
      "pipeline directories, git URLs (URL#branch), projects (causeway.project.yml), or one pipeline file (default: .)",
    )
    .option("--format <format>", "text or json", "text")
    .option("--json", "the same as --format json")
    .option("--branch <branch>", "the branch of the git URLs that name none (URL#branch does too)")
    .action(async (paths: string[], opts: { format: string; json?: boolean; branch?: string }) => {
      if (opts.format !== "text" && opts.format !== "json")
        throw usageError(`--format must be text or json, got ${opts.format}`);
      const loaded = await loadLine(withBranch(paths.length === 0 ? ["."] : paths, opts.branch), io.cwd);
      if (opts.format === "json" || opts.json === true) io.out(jsonText(validateJson(loaded.result, loaded.file)));
      else io.out(validateText(loaded, makeStyle(io.color)));
      io.exitCode(loaded.result.ok ? 0 : 1);
    });
}

/**
 * What `validate` and `graph` read: one pipeline file alone (with its templates), else the sources the
 * arguments name (directories, git URLs cloned for the command, projects) as one line.
 */
export async function loadLine(paths: readonly string[], cwd: string): Promise<LoadedDir> {
  const [only] = paths;
  if (paths.length === 1 && only !== undefined && !isGitUrl(only)) {
    const info = await stat(resolve(cwd, only)).catch(() => undefined);
    if (info?.isFile() === true && basename(only) !== PROJECT_FILE_NAME) return loadTarget(only, cwd);
    if (info === undefined) throw usageError(`no such file or directory: ${only}`);
  }
  const clones = tempClones();
  try {
    return await loadSources(await resolveSources(paths, cwd, clones.fetch));
  } finally {
    await clones.cleanup();
  }
}

/** How many more places of a grouped problem are listed after the first. */
const MORE_PLACES = 3;
/** How many job names a reason lists. */
const LISTED_JOBS = 5;

/**
 * The text of a validation: one block per problem (a problem met in many places, such as one
 * undefined name referred to a thousand times, is one block with its count and first places),
 * then the verdict with the counts, and which jobs will run.
 */
export function validateText(loaded: LoadedDir, style: Style): string {
  const { result, texts } = loaded;
  const groups = groupDiagnostics(result.diagnostics);
  const blocks = groups.map((g) => renderGroup(g, texts.get(g.first.file), style));
  blocks.push(summaryText(result, groups, readiness(result.pipeline), style));
  return `${blocks.join("\n\n")}\n`;
}

function summaryText(result: LoadResult, groups: readonly DiagnosticGroup[], ready: Readiness, style: Style): string {
  const counts = { error: 0, warning: 0, info: 0 };
  for (const d of result.diagnostics) counts[d.severity]++;
  const s = result.summary;
  const verdict = result.ok ? style.bold("valid") : style.red(style.bold("invalid"));
  const lines = [
    `${verdict}: ${plural(result.files.length, "file")}, ${plural(s.resources, "resource")}, ${plural(s.jobs, "job")}, ` +
      `${plural(s.edges, "edge")}; ${plural(counts.error, "error")}, ${plural(counts.warning, "warning")}, ` +
      `${plural(counts.info, "info")}`,
  ];
  for (const line of repeatedLines(groups)) lines.push(`  ${line}`);
  for (const { path, reason: r } of result.refused)
    lines.push(
      `  ${style.red("refused")} ${path} (${r.code} at ${r.file}:${r.line}:${r.col}): none of its objects is loaded`,
    );
  lines.push(`  ${jobsLine(ready, style)}`);
  return lines.join("\n");
}

/** How many of the most repeated subjects of a code the summary names. */
const TOP_SUBJECTS = 3;

/**
 * One line per code whose problems were met in several places: how many subjects, how many
 * places, the most repeated first (`PIPELINE_UNKNOWN_REFERENCE: 26 names in 907 places
 * (prod_release 108, node_repo_file_tag 101, ...)`).
 */
function repeatedLines(groups: readonly DiagnosticGroup[]): string[] {
  const byCode = new Map<string, DiagnosticGroup[]>();
  for (const g of groups)
    if (g.all.length > 1 && g.first.subject !== undefined)
      byCode.set(g.first.code, [...(byCode.get(g.first.code) ?? []), g]);
  return [...byCode].map(([code, list]) => {
    const places = list.reduce((n, g) => n + g.all.length, 0);
    const top = [...list].sort((a, b) => b.all.length - a.all.length);
    const named = top.slice(0, TOP_SUBJECTS).map((g) => `${g.first.subject ?? ""} ${g.all.length}`);
    const more = top.length > TOP_SUBJECTS ? ` and ${top.length - TOP_SUBJECTS} more` : "";
    return `${code}: ${plural(list.length, "name")} in ${places} places (${named.join(", ")}${more})`;
  });
}

/** `all 7 jobs will run`, or how many will and, by reason, which will not. */
function jobsLine(ready: Readiness, style: Style): string {
  const total = ready.runnable.length + ready.notRunnable.length;
  if (total === 0) return "no job to run";
  if (ready.notRunnable.length === 0)
    return style.green(total === 1 ? "the job will run" : `all ${total} jobs will run`);
  const byReason = new Map<string, string[]>();
  for (const n of ready.notRunnable) byReason.set(n.reason, [...(byReason.get(n.reason) ?? []), n.name]);
  const reasons = [...byReason].map(([reason, names]) => {
    const shown = names.slice(0, LISTED_JOBS).join(", ");
    const more = names.length > LISTED_JOBS ? ` and ${names.length - LISTED_JOBS} more` : "";
    return `${shown}${more}: ${reason}`;
  });
  const will = `${ready.runnable.length} of ${plural(total, "job")} will run`;
  return `${style.yellow(will)}; ${ready.notRunnable.length} will not: ${reasons.join("; ")}`;
}

function renderGroup(group: DiagnosticGroup, text: string | undefined, style: Style): string {
  const block = renderDiagnostic(group.first, text, style);
  const rest = group.all.slice(1);
  if (rest.length === 0) return block;
  const places = rest.slice(0, MORE_PLACES).map((d) => `${d.file}:${d.line}:${d.col}`);
  const more = rest.length > MORE_PLACES ? ` and ${rest.length - MORE_PLACES} more` : "";
  return `${block}\n  ${style.bold(`and ${rest.length} more`)} ${style.dim(`(--json lists every one)`)}: ${places.join(", ")}${more}`;
}

const LABEL = { error: "error", warning: "warning", info: "info" } as const;

/** One diagnostic: severity and code, message, location, code frame and hint. */
export function renderDiagnostic(d: Diagnostic, text: string | undefined, style: Style): string {
  const colour = d.severity === "error" ? style.red : d.severity === "warning" ? style.yellow : style.blue;
  const head = `${colour(`${LABEL[d.severity]} ${d.code}`)}: ${d.message}`;
  const where = style.dim(`  at ${d.file}:${d.line}:${d.col}${d.path === "" ? "" : `  (${d.path})`}`);
  const frame = codeFrame(text, d, style);
  const hint = d.hint === undefined ? "" : `\n  ${style.bold("hint")}: ${d.hint}`;
  return `${head}\n${where}${frame === "" ? "" : `\n${frame}`}${hint}`;
}

/** `1 file`, `2 files`, `0 infos`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

import type { Command } from "commander";
import type { LoadResult } from "@causeway/core";
import { UNREAD_CODES, type AppliedSourceJson, type ApplyBody, type ApplyResult } from "@causeway/protocol";
import { makeStyle, type Style } from "../code-frame.js";
import { connect, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { jsonText } from "../format.js";
import type { Io } from "../io.js";
import { tempClones } from "../git-clone.js";
import { resolveSources, withBranch, type LocalSource } from "../line-sources.js";
import { loadSources } from "../pipeline-dir.js";
import { renderDiagnostic } from "./validate.js";

/** How many kept names the summary lists before `and N more`. */
const KEPT_SHOWN = 10;

/**
 * What an apply changed and what it refused: `applied: 2 added, 1 changed, 0 removed; refused 1
 * file (its 8 objects kept as they were)`, then `+ added`, `~ changed`, `- removed`, each
 * refused file with the position and code of its problem, and the kept objects.
 */
export function applySummary(result: ApplyResult, style: Style): string {
  const counts = `${result.added.length} added, ${result.changed.length} changed, ${result.removed.length} removed`;
  const refused = result.files.filter((f) => f.status === "refused");
  const kept = result.kept.length;
  const refusal =
    refused.length === 0
      ? ""
      : `; ${style.red(`refused ${plural(refused.length, "file")}`)} (${refused.length === 1 ? "its" : "their"} ` +
        `${plural(kept, "object")} kept as ${kept === 1 ? "it was" : "they were"})`;
  const lines = [
    result.applied
      ? `${style.bold("applied")}: ${counts}${refusal}`
      : `${style.red(style.bold("not applied"))}: the line has errors`,
  ];
  for (const n of result.added) lines.push(`  ${style.green("+")} ${n}`);
  for (const n of result.changed) lines.push(`  ${style.yellow("~")} ${n}`);
  for (const n of result.removed) lines.push(`  ${style.red("-")} ${n}`);
  for (const f of refused) {
    const why =
      f.reason === undefined
        ? ""
        : `: ${f.reason.file}:${f.reason.line}:${f.reason.col} ${f.reason.code} ${f.reason.message}`;
    lines.push(`  ${style.red("✗")} ${f.path}${why}`);
  }
  if (kept > 0) {
    const more = kept > KEPT_SHOWN ? `, and ${kept - KEPT_SHOWN} more` : "";
    lines.push(`kept as they were: ${result.kept.slice(0, KEPT_SHOWN).join(", ")}${more}`);
  }
  if (result.versioned.length > 0) lines.push(`new versions from YAML: ${result.versioned.join(", ")}`);
  return `${lines.join("\n")}\n`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The pipeline files a load found but did not read (over a cap, unreadable): sent as `unread`. */
export function unreadFiles(local: LoadResult, texts: ReadonlyMap<string, string>): NonNullable<ApplyBody["unread"]> {
  const unread: NonNullable<ApplyBody["unread"]> = [];
  for (const r of local.refused) {
    const code = r.reason.code;
    if (texts.has(r.path) || !(UNREAD_CODES as readonly string[]).includes(code)) continue;
    unread.push({ path: r.path, code: code as (typeof UNREAD_CODES)[number], message: r.reason.message });
  }
  return unread;
}

/** What `apply` and `plan` send: the body, and the local load for code frames. */
export interface PreparedLine {
  readonly body: ApplyBody;
  readonly local: LoadResult;
  readonly texts: ReadonlyMap<string, string>;
}

/**
 * Loads the sources of a line as `apply` and `plan` send them (directories, git URLs cloned for
 * the command, projects: see `resolveSources`), with the same file rules and size caps as
 * `validate`; files found but not read go as `unread` (the server keeps what they defined).
 * With no pipeline file at all it prints why, sets exit code 1 and returns undefined: nothing is
 * sent, the server keeps the line.
 */
export async function prepareLine(args: readonly string[], io: Io, verb: string): Promise<PreparedLine | undefined> {
  const clones = tempClones();
  try {
    const resolved = await resolveSources(args, io.cwd, clones.fetch);
    const { sources, named } = resolved;
    const { root, result: local, texts } = await loadSources(resolved);
    const unread = unreadFiles(local, texts);
    if (texts.size === 0 && unread.length === 0) {
      // PIPELINE_NO_FILES says why.
      const style = makeStyle(io.color);
      const blocks = local.diagnostics.map((d) => renderDiagnostic(d, texts.get(d.file), style));
      io.out(
        `${blocks.join("\n\n")}\n\n${style.red(style.bold(`not ${verb}`))}: no pipeline file in ${args.join(" ")}\n`,
      );
      io.exitCode(1);
      return undefined;
    }
    const files = [...texts].map(([path, text]) => ({ path, text }));
    const user = io.env.USER ?? io.env.USERNAME;
    // The directories' absolute paths: the server resolves relative gitRepo sources against
    // them (meaningful when the server shares this filesystem, as with `causeway up`). A git
    // source's clone is gone after the command: its relative sources are not resolved.
    const body: ApplyBody = {
      files,
      ...(named ? {} : { baseDir: root }),
      ...(named ? { sources: sources.map(appliedSource) } : {}),
      ...(unread.length === 0 ? {} : { unread }),
      source: "cli",
      ...(user === undefined || user === "" || user.length > 200 ? {} : { user }),
    };
    return { body, local, texts };
  } finally {
    await clones.cleanup();
  }
}

function appliedSource(s: LocalSource): AppliedSourceJson {
  return s.git === undefined ? { name: s.name, dir: s.dir } : { name: s.name, ...s.git };
}

/** Whether an apply or a plan found a problem (exit code 1): errors, or a refused file. */
export function lineFailed(result: Pick<ApplyResult, "ok" | "files" | "diagnostics">): boolean {
  return (
    !result.ok ||
    result.files.some((f) => f.status === "refused") ||
    result.diagnostics.some((d) => d.severity === "error")
  );
}

/**
 * The server's diagnostics of an apply or plan, with code frames from the local load where it
 * has the same diagnostic (the server knows the line as applied: a reference to an object kept
 * for a refused file resolves there).
 */
export function diagnosticBlocks(diagnostics: ApplyResult["diagnostics"], line: PreparedLine, style: Style): string {
  const blocks = diagnostics.map((d) => {
    const mine = line.local.diagnostics.find((l) => sameDiagnostic(l, d));
    if (mine !== undefined) return renderDiagnostic(mine, line.texts.get(mine.file), style);
    const hint = d.hint === undefined ? "" : `\n  ${style.bold("hint")}: ${d.hint}`;
    return `${d.severity} ${d.code}: ${d.message}\n${style.dim(`  at ${d.file}:${d.line}:${d.col}`)}${hint}`;
  });
  return blocks.length === 0 ? "" : `${blocks.join("\n\n")}\n\n`;
}

/** Registers `causeway apply DIR|URL…`: sends the line's files to the server, which applies them. */
export function registerApply(program: Command, io: Io): void {
  serverCommand(program, "apply", "send an assembly line to the server: add, change and remove its resources and jobs")
    .argument("<sources...>", "pipeline directories, git URLs (URL#branch) or projects (causeway.project.yml)")
    .option("--branch <branch>", "the branch of the git URLs that name none (URL#branch does too)")
    .action(async (args: string[], opts: ServerCommandOptions & { branch?: string }) => {
      const line = await prepareLine(withBranch(args, opts.branch), io, "applied");
      if (line === undefined) return;
      const ctx = await connect(io, opts);
      const result = await ctx.client.apply(line.body);
      if (ctx.json) io.out(jsonText(result));
      else io.out(diagnosticBlocks(result.diagnostics, line, ctx.style) + applySummary(result, ctx.style));
      io.exitCode(lineFailed(result) ? 1 : 0);
    });
}

type Located = Pick<ApplyResult["diagnostics"][number], "code" | "file" | "line" | "col" | "message">;

function sameDiagnostic(a: Located, b: Located): boolean {
  return a.code === b.code && a.file === b.file && a.line === b.line && a.col === b.col && a.message === b.message;
}

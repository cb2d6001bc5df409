import type { Command } from "commander";
import type { ApplyRecordJson } from "@causeway/protocol";
import type { Style } from "../code-frame.js";
import { connect, parsePositiveInt, serverCommand, type ServerCommandOptions } from "../command-kit.js";
import { alignRows, formatAge, jsonText } from "../format.js";
import type { Io } from "../io.js";

/** How many entries `causeway applies` shows without `--limit`. */
const DEFAULT_LIMIT = 20;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** What one apply did, in a line: `0 added, 1 changed, 0 removed, 8 kept; 1 error`. */
export function applyOutcome(apply: ApplyRecordJson, style: Style): string {
  const kept = apply.kept.length === 0 ? "" : `, ${style.yellow(`${apply.kept.length} kept`)}`;
  const errors = apply.errors === 0 ? "0 errors" : style.red(plural(apply.errors, "error"));
  return `${apply.added.length} added, ${apply.changed.length} changed, ${apply.removed.length} removed${kept}; ${errors}`;
}

/**
 * The apply history, newest first: one row per apply (id, when, source, who, files, outcome),
 * and under it the git sources of the line with the commit applied, and one line per refused
 * file with where and why.
 */
export function appliesText(applies: readonly ApplyRecordJson[], now: Date, style: Style): string {
  const rows = [
    ["ID", "WHEN", "SOURCE", "BY", "FILES", "RESULT"],
    ...applies.map((a) => {
      const refused = a.files.filter((f) => f.status === "refused").length;
      return [
        String(a.id),
        formatAge(a.at, now),
        a.source,
        a.by,
        refused === 0 ? String(a.files.length) : `${a.files.length} (${style.red(`${refused} refused`)})`,
        applyOutcome(a, style),
      ];
    }),
  ];
  const [head = "", ...lines] = alignRows(rows);
  const out = [style.bold(head)];
  applies.forEach((a, i) => {
    out.push(lines[i] ?? "");
    // The git sources with the commit applied: which commit of which repository it came from.
    for (const s of a.sources ?? []) {
      if (s.url === undefined) continue;
      const at = s.commit === undefined ? style.red("not fetched") : s.commit.slice(0, 7);
      out.push(`    ${s.name}: ${s.url}${s.branch === undefined ? "" : `#${s.branch}`} at ${at}`);
    }
    for (const f of a.files) {
      if (f.status !== "refused") continue;
      const r = f.reason;
      const why = r === undefined ? "" : `: ${r.file}:${r.line}:${r.col} ${r.code} ${r.message}`;
      out.push(`    ${style.red("✗")} ${f.path}${why}`);
    }
  });
  return `${out.join("\n")}\n`;
}

/** Registers `causeway applies [--limit N]`. */
export function registerApplies(program: Command, io: Io): void {
  serverCommand(
    program,
    "applies",
    "list the applies of the line, newest first: who applied what, which files were refused, what was kept",
  )
    .option("--limit <n>", `at most this many applies (default ${DEFAULT_LIMIT})`)
    .action(async (opts: ServerCommandOptions & { limit?: string }) => {
      const limit = opts.limit === undefined ? DEFAULT_LIMIT : parsePositiveInt(opts.limit, "--limit");
      const ctx = await connect(io, opts);
      const applies = await ctx.client.applies(limit);
      if (ctx.json) io.out(jsonText(applies));
      else if (applies.length === 0) io.out("no applies yet\n");
      else io.out(appliesText(applies, io.now(), ctx.style));
      io.exitCode(0);
    });
}

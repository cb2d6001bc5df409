import type { Diagnostic } from "@causeway/core";

/** Terminal styling; identity functions when colour is off. */
export interface Style {
  readonly red: (s: string) => string;
  readonly green: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly blue: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly bold: (s: string) => string;
}

/** ANSI styling when `enabled`, plain text otherwise. */
export function makeStyle(enabled: boolean): Style {
  const wrap = (open: number, close: number) => (s: string) => (enabled ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return {
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    blue: wrap(34, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
  };
}

/**
 * A code frame: two lines of context around the diagnostic's line, with a caret under the
 * range (one line wide at most). Returns "" when the file's text is unknown.
 */
export function codeFrame(text: string | undefined, d: Diagnostic, style: Style): string {
  if (text === undefined) return "";
  const lines = text.split("\n");
  const from = Math.max(1, d.line - 2);
  const to = Math.min(lines.length, d.line + 1);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    const line = (lines[n - 1] ?? "").replace(/\r$/, "");
    const gutter = `${n === d.line ? style.bold(">") : " "} ${String(n).padStart(width)} | `;
    out.push(`${gutter}${line}`);
    if (n === d.line) {
      const end = d.endLine === d.line ? Math.max(d.endCol, d.col + 1) : line.length + 1;
      const len = Math.max(1, Math.min(end, line.length + 1) - d.col);
      const caret = "^".repeat(len);
      out.push(
        `  ${" ".repeat(width)} | ${" ".repeat(Math.max(0, d.col - 1))}${d.severity === "error" ? style.red(caret) : style.yellow(caret)}`,
      );
    }
  }
  return out.join("\n");
}

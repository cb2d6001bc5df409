import type { ProblemJson } from "@causeway/protocol";

/**
 * The lines around a problem (its excerpt) numbered, the problem's line marked `>` and a caret
 * under its column, as the CLI prints them; none when the problem has no excerpt.
 */
export function codeFrame(problem: Pick<ProblemJson, "line" | "col" | "excerpt">): string[] {
  const excerpt = problem.excerpt;
  if (excerpt === undefined || excerpt.lines.length === 0) return [];
  const width = String(excerpt.firstLine + excerpt.lines.length - 1).length;
  return excerpt.lines.flatMap((text, i) => {
    const n = excerpt.firstLine + i;
    const row = `${n === problem.line ? ">" : " "} ${String(n).padStart(width)} | ${text}`;
    if (n !== problem.line) return [row];
    return [row, `  ${" ".repeat(width)} | ${" ".repeat(Math.max(0, problem.col - 1))}^`];
  });
}

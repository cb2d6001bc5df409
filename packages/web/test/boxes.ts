import type { Layout } from "../src/layout.js";

/** The pairs of nodes whose boxes overlap in a layout (`a/b`), for the layout tests. */
export function overlaps(layout: Layout): string[] {
  const names = Object.keys(layout);
  const found: string[] = [];
  for (const [i, a] of names.entries())
    for (const b of names.slice(i + 1)) {
      const p = layout[a]!;
      const q = layout[b]!;
      if (p.x < q.x + q.width && q.x < p.x + p.width && p.y < q.y + q.height && q.y < p.y + p.height)
        found.push(`${a}/${b}`);
    }
  return found;
}

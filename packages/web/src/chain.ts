// Which nodes a filter shows: the seeds and their whole connected chain (everything upstream and
// downstream of them, following edge directions).

/** An edge as the chain reads it. */
export interface ChainEdge {
  readonly from: string;
  readonly to: string;
}

/** The seeds, everything upstream of them and everything downstream of them. */
export function chainOf(seeds: Iterable<string>, edges: readonly ChainEdge[]): Set<string> {
  const down = new Map<string, string[]>();
  const up = new Map<string, string[]>();
  for (const e of edges) {
    down.set(e.from, [...(down.get(e.from) ?? []), e.to]);
    up.set(e.to, [...(up.get(e.to) ?? []), e.from]);
  }
  const result = new Set<string>();
  const walk = (start: string, next: Map<string, string[]>): void => {
    const stack = [start];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const name = stack.pop() as string;
      if (seen.has(name)) continue;
      seen.add(name);
      result.add(name);
      stack.push(...(next.get(name) ?? []));
    }
  };
  for (const seed of seeds) {
    walk(seed, down);
    walk(seed, up);
  }
  return result;
}

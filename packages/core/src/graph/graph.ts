import type { Pipeline } from "../language/model.js";

/** A node of the dependency graph: a resource or a job. */
export interface GraphNode {
  readonly name: string;
  readonly kind: "resource" | "job";
  readonly type: string;
  readonly flags: readonly string[];
  readonly consistent: boolean;
}

/**
 * An edge: `IN` goes from the input (resource or job) to the job, `OUT` from the job to what it
 * updates. `switchOff` marks an IN that never triggers.
 */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly step: "IN" | "OUT";
  readonly switchOff: boolean;
}

/** The dependency graph of a line, with adjacency for queries. Immutable once built. */
export interface Graph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  node(name: string): GraphNode | undefined;
  /** Direct predecessors: what feeds `name`. */
  parents(name: string): readonly string[];
  /** Direct successors: what `name` feeds. */
  children(name: string): readonly string[];
}

/**
 * Builds the graph; steps naming undefined objects are left out, and so are objects without a
 * name (a schema error): nothing can refer to them, and node names stay unique.
 */
export function buildGraph(pipeline: Pipeline): Graph {
  const nodes: GraphNode[] = [];
  const byName = new Map<string, GraphNode>();
  for (const r of pipeline.resources) {
    if (r.name === "") continue;
    const n = { name: r.name, kind: "resource" as const, type: r.type, flags: r.flags, consistent: r.consistent };
    nodes.push(n);
    byName.set(r.name, n);
  }
  for (const j of pipeline.jobs) {
    if (j.name === "") continue;
    const n = { name: j.name, kind: "job" as const, type: j.type, flags: j.flags, consistent: j.consistent };
    nodes.push(n);
    byName.set(j.name, n);
  }
  const edges: GraphEdge[] = [];
  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  const link = (from: string, to: string): void => {
    push(children, from, to);
    push(parents, to, from);
  };
  for (const j of pipeline.jobs) {
    if (j.name === "") continue;
    for (const step of j.steps) {
      if (step.kind === "TASK" || !byName.has(step.name)) continue;
      if (step.kind === "IN") {
        edges.push({ from: step.name, to: j.name, step: "IN", switchOff: step.switchOff });
        link(step.name, j.name);
      } else {
        edges.push({ from: j.name, to: step.name, step: "OUT", switchOff: false });
        link(j.name, step.name);
      }
    }
  }
  return {
    nodes,
    edges,
    node: (name) => byName.get(name),
    parents: (name) => parents.get(name) ?? [],
    children: (name) => children.get(name) ?? [],
  };
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else if (!list.includes(value)) list.push(value);
}

function closure(start: readonly string[], next: (name: string) => readonly string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...start];
  while (stack.length > 0) {
    const n = stack.pop();
    if (n === undefined || seen.has(n)) continue;
    seen.add(n);
    stack.push(...next(n));
  }
  return seen;
}

/** Every node upstream of `name` (transitively), without `name` itself. */
export function upstream(graph: Graph, name: string): Set<string> {
  const set = closure(graph.parents(name), (n) => graph.parents(n));
  set.delete(name);
  return set;
}

/** Every node downstream of `name` (transitively), without `name` itself. */
export function downstream(graph: Graph, name: string): Set<string> {
  const set = closure(graph.children(name), (n) => graph.children(n));
  set.delete(name);
  return set;
}

/**
 * Topological order (Kahn; ties by definition order). Nodes on a cycle come last, in
 * definition order, so the result always lists every node once.
 */
export function topologicalOrder(graph: Graph): string[] {
  const indegree = new Map<string, number>();
  for (const n of graph.nodes) indegree.set(n.name, graph.parents(n.name).length);
  const ready = graph.nodes.filter((n) => indegree.get(n.name) === 0).map((n) => n.name);
  const order: string[] = [];
  const placed = new Set<string>();
  for (let i = 0; i < ready.length; i++) {
    const n = ready[i] ?? "";
    order.push(n);
    placed.add(n);
    for (const c of graph.children(n)) {
      const d = (indegree.get(c) ?? 0) - 1;
      indegree.set(c, d);
      if (d === 0) ready.push(c);
    }
  }
  for (const n of graph.nodes) if (!placed.has(n.name)) order.push(n.name);
  return order;
}

/**
 * The connected chain of a flag, as the Shippable filter showed it: every node carrying the
 * flag plus its full upstream and downstream chain.
 */
export function flagChain(graph: Graph, flag: string): Set<string> {
  const flagged = graph.nodes.filter((n) => n.flags.includes(flag)).map((n) => n.name);
  const result = new Set(flagged);
  for (const n of flagged) {
    for (const u of upstream(graph, n)) result.add(u);
    for (const d of downstream(graph, n)) result.add(d);
  }
  return result;
}

/** The subgraph induced by a set of node names (edges with both ends kept). */
export function subgraph(graph: Graph, keep: ReadonlySet<string>): Graph {
  const nodes = graph.nodes.filter((n) => keep.has(n.name));
  const edges = graph.edges.filter((e) => keep.has(e.from) && keep.has(e.to));
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  for (const e of edges) {
    push(children, e.from, e.to);
    push(parents, e.to, e.from);
  }
  return {
    nodes,
    edges,
    node: (name) => byName.get(name),
    parents: (name) => parents.get(name) ?? [],
    children: (name) => children.get(name) ?? [],
  };
}

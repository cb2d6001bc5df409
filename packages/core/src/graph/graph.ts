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
  for (const r of pipeline.resources) {
    if (r.name === "") continue;
    nodes.push({ name: r.name, kind: "resource", type: r.type, flags: r.flags, consistent: r.consistent });
  }
  for (const j of pipeline.jobs) {
    if (j.name === "") continue;
    nodes.push({ name: j.name, kind: "job", type: j.type, flags: j.flags, consistent: j.consistent });
  }
  // Adjacency by node index, one map from names: a repeated name resolves to its last node.
  const at = new Map<string, number>();
  for (let i = 0; i < nodes.length; i++) at.set(nodes[i]?.name ?? "", i);
  const edges: GraphEdge[] = [];
  const parents = new Array<string[] | undefined>(nodes.length).fill(undefined);
  const children = new Array<string[] | undefined>(nodes.length).fill(undefined);
  for (const j of pipeline.jobs) {
    const job = j.name === "" ? undefined : at.get(j.name);
    if (job === undefined) continue;
    for (const step of j.steps) {
      if (step.kind === "TASK") continue;
      const other = at.get(step.name);
      if (other === undefined) continue;
      if (step.kind === "IN") {
        edges.push({ from: step.name, to: j.name, step: "IN", switchOff: step.switchOff });
        children[other] = pushNew(children[other], j.name);
        parents[job] = pushNew(parents[job], step.name);
      } else {
        edges.push({ from: j.name, to: step.name, step: "OUT", switchOff: false });
        children[job] = pushNew(children[job], step.name);
        parents[other] = pushNew(parents[other], j.name);
      }
    }
  }
  const lookup = <T>(list: readonly T[], name: string): T | undefined => {
    const i = at.get(name);
    return i === undefined ? undefined : list[i];
  };
  return {
    nodes,
    edges,
    node: (name) => lookup(nodes, name),
    parents: (name) => lookup(parents, name) ?? [],
    children: (name) => lookup(children, name) ?? [],
  };
}

// Appends `value` unless it is there already, creating the list on first use.
function pushNew(list: string[] | undefined, value: string): string[] {
  if (list === undefined) return [value];
  if (!list.includes(value)) list.push(value);
  return list;
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
  // Per-name state in arrays, at the slot of a name's last node (nodes may repeat a name).
  const slot = new Map<string, number>();
  graph.nodes.forEach((n, i) => slot.set(n.name, i));
  const indegree = new Int32Array(graph.nodes.length);
  const placed = new Uint8Array(graph.nodes.length);
  for (const n of graph.nodes) indegree[slot.get(n.name) ?? 0] = graph.parents(n.name).length;
  const ready: string[] = [];
  for (const n of graph.nodes) if (indegree[slot.get(n.name) ?? 0] === 0) ready.push(n.name);
  const order: string[] = [];
  for (let i = 0; i < ready.length; i++) {
    const n = ready[i] ?? "";
    order.push(n);
    placed[slot.get(n) ?? 0] = 1;
    for (const c of graph.children(n)) {
      // A child that is not a node is never placed (it would only count down from 0).
      const s = slot.get(c);
      if (s === undefined) continue;
      const d = (indegree[s] ?? 0) - 1;
      indegree[s] = d;
      if (d === 0) ready.push(c);
    }
  }
  for (const n of graph.nodes) if (placed[slot.get(n.name) ?? 0] === 0) order.push(n.name);
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

/** Every flag that a node of the graph carries, sorted. */
export function graphFlags(graph: Graph): string[] {
  const flags = new Set<string>();
  for (const n of graph.nodes) for (const f of n.flags) flags.add(f);
  return [...flags].sort();
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

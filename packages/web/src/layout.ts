import type { ElkNode } from "elkjs/lib/elk-api";
import { layeredLayout } from "./layered.js";

// The graph's layout, as a pure function of its structure: names, kinds and edges. States,
// pins and versions are not read, so a status change never moves a node.

/** What the layout reads of a graph. */
export interface GraphStructure {
  readonly nodes: readonly { readonly name: string; readonly kind: "job" | "resource" }[];
  readonly edges: readonly { readonly from: string; readonly to: string; readonly step: "IN" | "OUT" }[];
}

/** A node's box: top-left corner and size, in graph coordinates. */
export interface NodeBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Positions per node name. */
export type Layout = Readonly<Record<string, NodeBox>>;

/** The part of an ELK instance the layout uses (the worker-backed one, or the bundled one in tests). */
export interface ElkLike {
  layout(graph: ElkNode): Promise<ElkNode>;
}

/** The size of a node of each kind (the node components draw to it). */
export const NODE_SIZE = {
  job: { width: 200, height: 64 },
  resource: { width: 180, height: 44 },
} as const;

const LAYOUT_OPTIONS = {
  "elk.algorithm": "layered",
  "elk.direction": "RIGHT",
  "elk.spacing.nodeNode": "28",
  "elk.layered.spacing.nodeNodeBetweenLayers": "72",
  "elk.layered.spacing.edgeNodeBetweenLayers": "24",
  // Definition order breaks ties, so the same line always gives the same picture.
  "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
  // The graph draws its own curves between the nodes (edge.tsx): ELK's routes are not used, so
  // it routes the cheapest way.
  "elk.edgeRouting": "POLYLINE",
} as const;

/**
 * From this many nodes on, a line is large: it is laid out by `layeredLayout` (layered.ts), the
 * same layering computed directly, because ELK takes seconds on it in a fresh worker.
 */
export const LARGE_LINE_NODES = 400;

/**
 * A key of the graph's structure: equal keys give equal layouts, so the app lays out again only
 * when it changes (a node or edge added or removed, a kind changed), never on a state change.
 */
export function structureKey(graph: GraphStructure): string {
  return JSON.stringify([graph.nodes.map((n) => [n.name, n.kind]), graph.edges.map((e) => [e.from, e.to, e.step])]);
}

/**
 * Lays `graph` out left to right (inputs left of their job) with ELK's layered algorithm, or, for
 * a large line, with `layeredLayout`.
 */
export async function layoutGraph(graph: GraphStructure, elk: ElkLike): Promise<Layout> {
  if (graph.nodes.length >= LARGE_LINE_NODES) return layeredLayout(graph, (kind) => NODE_SIZE[kind]);
  const names = new Set(graph.nodes.map((n) => n.name));
  const seen = new Set<string>();
  const edges = graph.edges.flatMap((e, i) => {
    const key = `${e.from}->${e.to}`;
    if (!names.has(e.from) || !names.has(e.to) || e.from === e.to || seen.has(key)) return [];
    seen.add(key);
    return [{ id: `e${i}`, sources: [e.from], targets: [e.to] }];
  });
  const root: ElkNode = {
    id: "root",
    layoutOptions: { ...LAYOUT_OPTIONS },
    children: graph.nodes.map((n) => ({ id: n.name, ...NODE_SIZE[n.kind] })),
    edges,
  };
  const laid = await elk.layout(root);
  const layout: Record<string, NodeBox> = {};
  for (const child of laid.children ?? []) {
    layout[child.id] = { x: child.x ?? 0, y: child.y ?? 0, width: child.width ?? 0, height: child.height ?? 0 };
  }
  return layout;
}

import type { GraphEdgeJson, RunJson } from "@causeway/protocol";
import { Background, Controls, MiniMap, ReactFlow, useReactFlow } from "@xyflow/react";
import { useCallback, useEffect, useMemo, useState } from "react";
import { chainOf } from "../chain.js";
import { createElk } from "../elk.js";
import { LARGE_LINE_NODES, layoutGraph, NODE_SIZE, type ElkLike, type Layout } from "../layout.js";
import { edgeId } from "../state.js";
import { useSlice, useStore } from "../store.js";
import { graphHref, graphQuery, navigate, type GraphQuery } from "../url.js";
import { EDGE_TYPES } from "./edge.js";
import type { CausewayEdge, CausewayNode } from "./graph-model.js";
import { NODE_TYPES } from "./nodes.js";

// The graph drawn with xyflow. Nodes are placed by the layout, which runs only when the graph's
// structure changes; states are read by each node from the store (nodes.tsx).

/** What the flow view highlights: the nodes its runs touched. */
function touchedBy(runs: readonly RunJson[] | null, edges: readonly GraphEdgeJson[]): Set<string> | null {
  if (runs === null) return null;
  const jobs = new Set(runs.map((r) => r.job));
  const touched = new Set<string>(jobs);
  for (const run of runs) for (const input of run.inputs) touched.add(input.name);
  for (const e of edges) if (e.step === "OUT" && jobs.has(e.from)) touched.add(e.to);
  return touched;
}

const openNode = (name: string): void => navigate(graphHref(graphQuery(location.search), { select: name }));

/** The graph canvas for the URL's query; `flowRuns` the runs of the flow shown, if any. */
export function GraphCanvas({ query, flowRuns }: { readonly query: GraphQuery; readonly flowRuns: RunJson[] | null }) {
  const store = useStore();
  const structure = useSlice((s) => s.graph?.structure);
  const edges = useSlice((s) => s.graph?.edges);
  const flags = useSlice((s) => s.graph?.flags);
  // One worker while the canvas is shown, ended when it goes, and made only when a layout needs
  // it: a large line is laid out without ELK (layered.ts), and loading the worker's 1.6 MB of
  // script would only compete with the first render.
  const [elk, setElk] = useState<ElkLike | null>(null);
  useEffect(() => {
    let created: ReturnType<typeof createElk> | undefined;
    setElk({ layout: (graph) => (created ??= createElk()).layout(graph) });
    return () => created?.dispose();
  }, []);
  const [laid, setLaid] = useState<{ readonly key: string; readonly layout: Layout } | null>(null);

  useEffect(() => {
    const graph = store.getState().graph;
    if (graph === null || structure === undefined || elk === null) return;
    let gone = false;
    const nodes = graph.order.map((name) => ({ name, kind: graph.nodes[name]?.kind ?? "job" }));
    layoutGraph({ nodes, edges: graph.edges }, elk).then(
      (layout) => {
        if (!gone) setLaid({ key: structure, layout });
      },
      (error: unknown) => console.error("layout failed", error),
    );
    return () => {
      gone = true;
    };
  }, [structure, store, elk]);

  const visible = useMemo(() => {
    if (query.flag === null || flags === undefined || edges === undefined) return null;
    return chainOf(flags[query.flag] ?? [], edges);
  }, [query.flag, flags, edges]);
  const touched = useMemo(() => touchedBy(flowRuns, edges ?? []), [flowRuns, edges]);

  const large =
    (structure !== undefined && laid !== null && Object.keys(laid.layout).length >= LARGE_LINE_NODES) === true;

  const nodes = useMemo((): CausewayNode[] => {
    const graph = store.getState().graph;
    if (laid === null || graph === null) return [];
    return graph.order.flatMap((name): CausewayNode[] => {
      const box = laid.layout[name];
      const kind = graph.nodes[name]?.kind;
      if (box === undefined || kind === undefined) return [];
      return [
        {
          id: name,
          type: kind,
          position: { x: box.x, y: box.y },
          ...NODE_SIZE[kind],
          selected: query.select === name,
          hidden: visible !== null && !visible.has(name),
          data: { dim: touched !== null && !touched.has(name), touched: touched?.has(name) === true, onOpen: openNode },
        },
      ];
    });
  }, [laid, store, query.select, visible, touched]);

  const flowEdges = useMemo(
    (): CausewayEdge[] =>
      (edges ?? []).map((e) => {
        const hit = touched !== null && touched.has(e.from) && touched.has(e.to);
        return {
          id: edgeId(e),
          source: e.from,
          target: e.to,
          type: "causeway",
          hidden: visible !== null && !(visible.has(e.from) && visible.has(e.to)),
          data: { dim: touched !== null && !hit, touched: hit },
        };
      }),
    [edges, visible, touched],
  );

  return (
    <div className="graph-canvas" data-testid="graph" data-layout={laid === null ? "pending" : "done"}>
      <ReactFlow<CausewayNode, CausewayEdge>
        nodes={nodes}
        edges={flowEdges}
        nodeTypes={NODE_TYPES}
        edgeTypes={EDGE_TYPES}
        nodesDraggable={false}
        nodesConnectable={false}
        nodesFocusable={false}
        edgesFocusable={false}
        elementsSelectable={false}
        onNodeClick={(_event, node) => openNode(node.id)}
        minZoom={0.1}
        // A large line draws only what is in view: panning then costs what the screen holds,
        // not the whole line (its minimap, which draws every node at each move, is left out).
        onlyRenderVisibleElements={large}
        aria-label="the line's graph"
      >
        <Background gap={24} size={1} />
        <Controls showInteractive={false} />
        {large ? null : <MiniMap pannable zoomable nodeClassName={(n) => `mini-${n.type ?? ""}`} />}
        <Viewport
          layoutKey={laid === null ? null : `${laid.key}|${query.flag ?? ""}`}
          layout={laid?.layout ?? null}
          whole={visible === null}
          select={query.select}
        />
      </ReactFlow>
    </div>
  );
}

/**
 * Fits the view to a new layout or filter (a large line whole opens at its start), and centres
 * the selected node when the selection changes.
 */
function Viewport(props: {
  readonly layoutKey: string | null;
  readonly layout: Layout | null;
  /** Whether the whole line is shown (no flag filter). */
  readonly whole: boolean;
  readonly select: string | null;
}) {
  const flow = useReactFlow();
  const { layoutKey, layout, whole, select } = props;
  const centre = useCallback(
    (name: string) => {
      const box = layout?.[name];
      if (box !== undefined)
        void flow.setCenter(box.x + box.width / 2, box.y + box.height / 2, { zoom: 1.1, duration: 300 });
    },
    [flow, layout],
  );
  useEffect(() => {
    if (layoutKey === null) return;
    // After the nodes of a new layout are measured.
    // A large line fitted whole would be too small to read: it opens at its start instead.
    const start = (): void => {
      const first = whole && layout !== null ? startOf(layout) : undefined;
      if (first !== undefined) void flow.setViewport({ x: 24 - first.x * 0.6, y: 24 - first.y * 0.6, zoom: 0.6 });
      // Hidden nodes (outside a flag's chain) are left out of the fit.
      else void flow.fitView({ padding: 0.15 });
    };
    const t = setTimeout(() => (select === null ? start() : centre(select)), 50);
    return () => clearTimeout(t);
    // Only a new layout fits the view; a selection change centres below.
  }, [layoutKey]);
  useEffect(() => {
    if (select !== null) centre(select);
  }, [select, centre]);
  return null;
}

/**
 * Where a large line opens: its first node from the left (the topmost of those), so that the
 * view starts where the line does. Undefined for a line small enough to be fitted whole.
 */
function startOf(layout: Layout): { x: number; y: number } | undefined {
  const boxes = Object.values(layout);
  if (boxes.length < LARGE_LINE_NODES) return undefined;
  let first = boxes[0];
  for (const box of boxes)
    if (first === undefined || box.x < first.x || (box.x === first.x && box.y < first.y)) first = box;
  return first === undefined ? undefined : { x: first.x, y: first.y };
}

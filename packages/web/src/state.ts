import type { EventJson, GraphEdgeJson, GraphJson, GraphNodeJson } from "@causeway/protocol";
import { structureKey } from "./layout.js";

// The app's server-fed state and its one reducer: the graph as GET /graph gave it, then every
// engine event applied to it. Each node object is replaced only when that node changes, so a
// component reading one node repaints only when that node does.

/** The graph, by name, with its structure key (see layout.ts). */
export interface GraphState {
  readonly order: readonly string[];
  readonly nodes: Readonly<Record<string, GraphNodeJson>>;
  readonly edges: readonly GraphEdgeJson[];
  /** The edges by their id, `from->to` (an edge component reads its own in constant time). */
  readonly edgeById: Readonly<Record<string, GraphEdgeJson>>;
  readonly structure: string;
  /** The names of each flag's objects. */
  readonly flags: Readonly<Record<string, readonly string[]>>;
}

/** The state of the event stream. */
export type Connection = "connecting" | "live" | "reconnecting";

/** Everything the reducer holds. */
export interface AppState {
  readonly graph: GraphState | null;
  /** Bumped when the graph must be fetched again (a definition changed, the stream came back). */
  readonly graphWanted: number;
  readonly connection: Connection;
  readonly lastEventId: number | null;
  /** Bumped per job or resource on each event about it: panels showing it fetch again. */
  readonly ticks: Readonly<Record<string, number>>;
  /** Bumped on approval events (the Approvals page) and audit events (the Audit page). */
  readonly approvalsTick: number;
  readonly auditTick: number;
  /** The latest status of runs seen in events, by run id (a run page follows its run). */
  readonly runs: Readonly<Record<number, EventRun>>;
}

/** A run as its events give it. */
export type EventRun = Extract<EventJson, { type: "run" }>["payload"];

/** What changes the state: small action objects. */
export type Action =
  | { readonly type: "graph-loaded"; readonly graph: GraphJson }
  | { readonly type: "event"; readonly event: EventJson }
  | { readonly type: "connection"; readonly connection: Connection }
  /** Fetch the graph again (a reader without the event stream polls). */
  | { readonly type: "graph-wanted" };

/** The state before anything is loaded. */
export const INITIAL_STATE: AppState = {
  graph: null,
  graphWanted: 0,
  connection: "connecting",
  lastEventId: null,
  ticks: {},
  approvalsTick: 0,
  auditTick: 0,
  runs: {},
};

/** The state's graph from a GET /graph answer; unchanged nodes keep their objects. */
export function graphState(graph: GraphJson, previous: GraphState | null): GraphState {
  const nodes: Record<string, GraphNodeJson> = {};
  for (const node of graph.nodes) {
    const old = previous?.nodes[node.name];
    nodes[node.name] = old !== undefined && JSON.stringify(old) === JSON.stringify(node) ? old : node;
  }
  const structure = structureKey(graph);
  const edges =
    previous !== null && JSON.stringify(previous.edges) === JSON.stringify(graph.edges) ? previous.edges : graph.edges;
  const flagged: Record<string, string[]> = {};
  for (const node of graph.nodes) for (const flag of node.flags) (flagged[flag] ??= []).push(node.name);
  const flags =
    previous !== null && JSON.stringify(previous.flags) === JSON.stringify(flagged) ? previous.flags : flagged;
  const edgeById: Record<string, GraphEdgeJson> = {};
  for (const edge of edges) edgeById[edgeId(edge)] = edge;
  return {
    order: graph.nodes.map((n) => n.name),
    nodes,
    edges,
    edgeById: previous !== null && previous.edges === edges ? previous.edgeById : edgeById,
    structure,
    flags,
  };
}

/** An edge's id: `from->to` (the graph's `data-edge`). */
export function edgeId(edge: Pick<GraphEdgeJson, "from" | "to">): string {
  return `${edge.from}->${edge.to}`;
}

function tick(state: AppState, ...names: string[]): AppState["ticks"] {
  const ticks = { ...state.ticks };
  for (const name of names) ticks[name] = (ticks[name] ?? 0) + 1;
  return ticks;
}

function withNode(
  graph: GraphState | null,
  name: string,
  change: (n: GraphNodeJson) => GraphNodeJson,
): GraphState | null {
  const node = graph?.nodes[name];
  if (graph === null || node === undefined) return graph;
  const next = change(node);
  return next === node ? graph : { ...graph, nodes: { ...graph.nodes, [name]: next } };
}

/** Applies one engine event. */
export function applyEvent(state: AppState, event: EventJson): AppState {
  const base = { ...state, lastEventId: event.id };
  switch (event.type) {
    case "run": {
      const run = event.payload;
      const graph = withNode(state.graph, run.job, (node) => {
        // An older run's late event must not hide the latest run's state.
        if (node.latestRun !== null && node.latestRun.id > run.id) return node;
        if (node.latestRun?.id === run.id && node.state === run.status) return node;
        return { ...node, state: run.status, latestRun: { id: run.id, number: run.number, status: run.status } };
      });
      return { ...base, graph, ticks: tick(state, run.job), runs: { ...state.runs, [run.id]: run } };
    }
    case "version": {
      const v = event.payload;
      const graph = withNode(state.graph, v.name, (node) => {
        if (node.latestVersion !== null && node.latestVersion >= v.versionNumber) return node;
        const nextState = node.kind === "resource" ? "ready" : node.state;
        return { ...node, latestVersion: v.versionNumber, state: nextState };
      });
      // A pinned or switched-off input's `newer` badge is the server's to compute.
      const badge = state.graph?.edges.some((e) => e.from === v.name && (e.pinned !== null || e.switchOff)) === true;
      return { ...base, graph, ticks: tick(state, v.name), graphWanted: state.graphWanted + (badge ? 1 : 0) };
    }
    case "definition": {
      const d = event.payload;
      const paused = d.change === "paused" ? true : d.change === "resumed" ? false : undefined;
      const graph =
        paused === undefined
          ? state.graph
          : withNode(state.graph, d.name, (node) => (node.paused === paused ? node : { ...node, paused }));
      return { ...base, graph, ticks: tick(state, d.name), graphWanted: state.graphWanted + 1 };
    }
    case "explain":
      return { ...base, ticks: tick(state, event.payload.job) };
    case "approval":
      return { ...base, ticks: tick(state, event.payload.job), approvalsTick: state.approvalsTick + 1 };
    case "audit":
      return { ...base, auditTick: state.auditTick + 1 };
  }
}

/** The one reducer of server state. */
export function reduce(state: AppState, action: Action): AppState {
  switch (action.type) {
    case "graph-loaded":
      return { ...state, graph: graphState(action.graph, state.graph) };
    case "event":
      return applyEvent(state, action.event);
    case "graph-wanted":
      return { ...state, graphWanted: state.graphWanted + 1 };
    case "connection": {
      if (action.connection === state.connection) return state;
      // Back after a break: events may have been missed, so the graph is fetched again.
      const back = action.connection === "live" && state.connection === "reconnecting";
      return { ...state, connection: action.connection, graphWanted: state.graphWanted + (back ? 1 : 0) };
    }
  }
}

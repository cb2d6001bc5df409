import { buildGraph, originFile, type JobDef, type ResourceDef } from "@causeway/core";
import type { EngineView } from "@causeway/engine";
import type { EventJson, GraphEdgeJson, GraphJson, GraphNodeJson, NodeState, ParamSpecJson } from "@causeway/protocol";

/**
 * The read model of `GET /api/v1/graph` (the web UI's picture of the line): the applied line's
 * nodes, each with its state, and its edges with what a reader must see on them (pins, switches,
 * newer versions waiting). Built from the engine's view at each request: it holds nothing.
 *
 * `visible`: the jobs an anonymous reader may see (those with `allowPublicAccess`); such a
 * reader sees them, the resources they touch, and the edges between what it sees.
 */
export function graphJson(view: EngineView, visible?: (job: string) => boolean): GraphJson {
  const resources: ResourceDef[] = [];
  const jobs: JobDef[] = [];
  const files = new Map<string, string>();
  for (const entry of view.objects()) {
    if (entry.kind === "job") jobs.push(entry.def);
    else resources.push(entry.def);
    const file = originFile(entry.stored.definition);
    if (file !== undefined) files.set(entry.name, file);
  }
  const graph = buildGraph({ resources, jobs });
  let shown: ((name: string) => boolean) | undefined;
  if (visible !== undefined) {
    const names = new Set<string>();
    for (const node of graph.nodes) {
      if (node.kind !== "job" || !visible(node.name)) continue;
      names.add(node.name);
      for (const n of graph.parents(node.name)) if (graph.node(n)?.kind === "resource") names.add(n);
      for (const n of graph.children(node.name)) if (graph.node(n)?.kind === "resource") names.add(n);
    }
    shown = (name) => names.has(name);
  }

  const nodes: GraphNodeJson[] = [];
  for (const node of graph.nodes) {
    if (shown !== undefined && !shown(node.name)) continue;
    const stored = view.object(node.name)?.stored;
    const latestRun = node.kind === "job" ? view.latestRun(node.name) : undefined;
    const latestVersion = view.latestVersion(node.name)?.versionNumber ?? null;
    const file = files.get(node.name);
    const params = node.kind === "job" ? paramsOf(view.job(node.name)) : [];
    nodes.push({
      name: node.name,
      kind: node.kind,
      type: node.type,
      flags: [...node.flags],
      state: nodeState(node.kind, latestRun?.status, latestVersion),
      paused: stored?.paused ?? false,
      latestVersion,
      latestRun:
        latestRun === undefined ? null : { id: latestRun.id, number: latestRun.number, status: latestRun.status },
      ...(file === undefined ? {} : { file }),
      ...(params.length === 0 ? {} : { params }),
    });
  }

  const edges: GraphEdgeJson[] = [];
  for (const edge of graph.edges) {
    if (shown !== undefined && !(shown(edge.from) && shown(edge.to))) continue;
    const pinned = edge.step === "IN" ? (view.pins(edge.to).get(edge.from) ?? null) : null;
    edges.push({
      from: edge.from,
      to: edge.to,
      step: edge.step,
      switchOff: edge.switchOff,
      pinned,
      newer: edge.step === "IN" && (edge.switchOff || pinned !== null) && newerThanUsed(view, edge.from, edge.to),
    });
  }
  return { nodes, edges };
}

/** A node's state on the wire (protocol ui.ts `NodeStateSchema`). */
export function nodeState(
  kind: "resource" | "job",
  latestRunStatus: GraphNodeJson["state"] | undefined,
  latestVersion: number | null,
): NodeState {
  if (kind === "resource") return latestVersion === null ? "empty" : "ready";
  return latestRunStatus ?? "never_run";
}

// Whether `input` has a version newer than the one `job`'s latest run took (or any version, when
// the job never ran with it): what a manual run would pick up.
function newerThanUsed(view: EngineView, input: string, job: string): boolean {
  const latest = view.latestVersion(input)?.versionNumber;
  if (latest === undefined) return false;
  const used = view.latestRun(job)?.inputs.find((i) => i.name === input)?.versionNumber ?? null;
  return used === null || latest > used;
}

/** A job's typed parameters on the wire; a secret's default never leaves the server. */
function paramsOf(job: JobDef | undefined): ParamSpecJson[] {
  return (job?.params ?? []).map((p) => ({
    name: p.name,
    type: p.type,
    default: p.type === "secret" ? null : (p.default ?? null),
    choices: [...p.choices],
    required: p.required,
    description: p.description ?? null,
  }));
}

/**
 * What an anonymous reader of a public server may see of the event stream: the events about the
 * public jobs and the resources they touch (the graph `graphJson` gives such a reader), never
 * approvals or the audit trail. The names it may see are read again after each definition
 * event, which may change them.
 */
export function publicEventFilter(view: EngineView, isPublic: (job: string) => boolean): (event: EventJson) => boolean {
  let names: Set<string> | undefined;
  const visible = (name: string): boolean =>
    (names ??= new Set(graphJson(view, isPublic).nodes.map((n) => n.name))).has(name);
  return (event) => {
    switch (event.type) {
      case "run":
      case "explain":
        return isPublic(event.payload.job);
      case "version":
        return visible(event.payload.name);
      case "definition": {
        names = undefined;
        return visible(event.payload.name);
      }
      default:
        return false;
    }
  };
}

import { topologicalOrder, type Graph } from "./graph.js";

/** Output formats of `causeway graph`. */
export const GRAPH_FORMATS = ["text", "dot", "mermaid", "json"] as const;
/** An output format of `causeway graph`. */
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

/** Renders a graph in one of the formats. */
export function renderGraph(graph: Graph, format: GraphFormat): string {
  switch (format) {
    case "text":
      return renderText(graph);
    case "dot":
      return renderDot(graph);
    case "mermaid":
      return renderMermaid(graph);
    case "json":
      return `${JSON.stringify(graphToJson(graph), null, 2)}\n`;
  }
}

/** The JSON shape of a graph: nodes in topological order and edges. */
export function graphToJson(graph: Graph): {
  nodes: { name: string; kind: string; type: string; flags: readonly string[]; consistent: boolean }[];
  edges: { from: string; to: string; step: string; switchOff: boolean }[];
} {
  const order = topologicalOrder(graph);
  return {
    nodes: order.map((name) => {
      const n = graph.node(name);
      return {
        name,
        kind: n?.kind ?? "resource",
        type: n?.type ?? "",
        flags: n?.flags ?? [],
        consistent: n?.consistent ?? true,
      };
    }),
    edges: graph.edges.map((e) => ({ from: e.from, to: e.to, step: e.step, switchOff: e.switchOff })),
  };
}

function renderText(graph: Graph): string {
  const lines: string[] = [];
  for (const name of topologicalOrder(graph)) {
    const n = graph.node(name);
    if (n === undefined || n.kind !== "job") continue;
    const mark = n.consistent ? "" : "  [inconsistent]";
    lines.push(`${name} (${n.type})${mark}`);
    for (const e of graph.edges) {
      if (e.to === name && e.step === "IN") lines.push(`  <- ${e.from}${e.switchOff ? "  (switch: off)" : ""}`);
    }
    for (const e of graph.edges) if (e.from === name && e.step === "OUT") lines.push(`  -> ${e.to}`);
  }
  const jobs = graph.nodes.filter((n) => n.kind === "job").length;
  lines.push("", `${graph.nodes.length - jobs} resources, ${jobs} jobs, ${graph.edges.length} edges`);
  return `${lines.join("\n")}\n`;
}

function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function renderDot(graph: Graph): string {
  const lines = ["digraph causeway {", "  rankdir=LR;", "  node [fontname=Helvetica];"];
  for (const n of graph.nodes) {
    const shape = n.kind === "job" ? "box" : "ellipse";
    const color = n.consistent ? "" : ", color=deeppink";
    lines.push(`  ${quote(n.name)} [shape=${shape}, label=${quote(`${n.name}\n${n.type}`)}${color}];`);
  }
  for (const e of graph.edges)
    lines.push(`  ${quote(e.from)} -> ${quote(e.to)}${e.switchOff ? " [style=dashed]" : ""};`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

function renderMermaid(graph: Graph): string {
  const ids = new Map<string, string>();
  graph.nodes.forEach((n, i) => ids.set(n.name, `n${i}`));
  const label = (s: string): string => s.replace(/"/g, "#quot;");
  const lines = ["flowchart LR"];
  for (const n of graph.nodes) {
    const id = ids.get(n.name) ?? "";
    lines.push(n.kind === "job" ? `  ${id}["${label(n.name)}"]` : `  ${id}(["${label(n.name)}"])`);
  }
  for (const e of graph.edges)
    lines.push(`  ${ids.get(e.from) ?? ""} ${e.switchOff ? "-.->" : "-->"} ${ids.get(e.to) ?? ""}`);
  const bad = graph.nodes.filter((n) => !n.consistent).map((n) => ids.get(n.name) ?? "");
  if (bad.length > 0)
    lines.push("  classDef inconsistent stroke:#e0218a,stroke-width:2px", `  class ${bad.join(",")} inconsistent`);
  return `${lines.join("\n")}\n`;
}

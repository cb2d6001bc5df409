import type { GraphJson, GraphNodeJson, NodeState } from "@causeway/protocol";
import ELK from "elkjs/lib/elk.bundled.js";
import { describe, expect, it } from "vitest";
import { LARGE_LINE_NODES, layoutGraph, structureKey } from "../src/layout.js";
import { overlaps } from "./boxes.js";

const elk = new ELK();

const node = (name: string, kind: "job" | "resource", state: NodeState = kind === "job" ? "never_run" : "empty") =>
  ({
    name,
    kind,
    type: kind === "job" ? "runSh" : "gitRepo",
    flags: [],
    state,
    paused: false,
    latestVersion: null,
    latestRun: null,
  }) satisfies GraphNodeJson;
const edge = (from: string, to: string, step: "IN" | "OUT") => ({
  from,
  to,
  step,
  switchOff: false,
  pinned: null,
  newer: false,
});

//   app_repo ──IN──▶ build ──OUT──▶ image ──IN──▶ deploy
//                      ▲                           ▲
//   params ────IN──────┘          config ───IN─────┘
const drawn: GraphJson = {
  nodes: [
    node("app_repo", "resource"),
    node("params", "resource"),
    node("build", "job"),
    node("image", "resource"),
    node("config", "resource"),
    node("deploy", "job"),
  ],
  edges: [
    edge("app_repo", "build", "IN"),
    edge("params", "build", "IN"),
    edge("build", "image", "OUT"),
    edge("image", "deploy", "IN"),
    edge("config", "deploy", "IN"),
  ],
};

const withStates = (graph: GraphJson, states: Record<string, NodeState>): GraphJson => ({
  ...graph,
  nodes: graph.nodes.map((n) => ({ ...n, state: states[n.name] ?? n.state })),
});

describe("layoutGraph", () => {
  it("places every node, inputs left of their job, outputs right of it, none overlapping", async () => {
    const layout = await layoutGraph(drawn, elk);
    expect(Object.keys(layout).sort()).toEqual(drawn.nodes.map((n) => n.name).sort());
    for (const e of drawn.edges) expect(layout[e.from]!.x + layout[e.from]!.width).toBeLessThan(layout[e.to]!.x);
    expect(overlaps(layout)).toEqual([]);
    expect(layout.build!.width).toBeGreaterThan(layout.app_repo!.width);
  });

  it("gives the same positions when only states change", async () => {
    const before = await layoutGraph(drawn, elk);
    const after = await layoutGraph(
      withStates(drawn, { build: "processing", deploy: "failure", app_repo: "ready" }),
      elk,
    );
    expect(after).toEqual(before);
  });

  it("keeps every node in place when an unrelated node's state flips", async () => {
    const before = await layoutGraph(withStates(drawn, { deploy: "success" }), elk);
    const after = await layoutGraph(withStates(drawn, { deploy: "failure" }), elk);
    expect(after.build).toEqual(before.build);
    expect(after.app_repo).toEqual(before.app_repo);
  });

  it("lays a large line out the fast way with the same guarantees: inputs left, no overlap", async () => {
    // 30 chains of 15 jobs (450 nodes, over LARGE_LINE_NODES): j<c>_<k> ──IN──▶ j<c>_<k+1>.
    const nodes = [];
    const edges = [];
    for (let c = 0; c < 30; c++)
      for (let k = 0; k < 15; k++) {
        nodes.push(node(`j${c}_${k}`, "job"));
        if (k > 0) edges.push(edge(`j${c}_${k - 1}`, `j${c}_${k}`, "IN"));
      }
    expect(nodes.length).toBeGreaterThanOrEqual(LARGE_LINE_NODES);
    const layout = await layoutGraph({ nodes, edges }, elk);
    expect(Object.keys(layout)).toHaveLength(nodes.length);
    for (const e of edges) expect(layout[e.from]!.x + layout[e.from]!.width).toBeLessThan(layout[e.to]!.x);
    expect(overlaps(layout)).toEqual([]);
  });

  it("ignores edges to unknown nodes and self edges", async () => {
    const layout = await layoutGraph(
      {
        nodes: [node("a", "resource"), node("j", "job")],
        edges: [edge("a", "j", "IN"), edge("x", "j", "IN"), edge("j", "j", "OUT")],
      },
      elk,
    );
    expect(Object.keys(layout).sort()).toEqual(["a", "j"]);
  });
});

describe("structureKey", () => {
  it("is the same when states, pins or versions change", () => {
    const changed: GraphJson = {
      nodes: drawn.nodes.map((n) => ({ ...n, state: "success" as const, latestVersion: 3, paused: true })),
      edges: drawn.edges.map((e) => ({ ...e, pinned: 2, newer: true, switchOff: true })),
    };
    expect(structureKey(changed)).toBe(structureKey(drawn));
  });

  it("changes when a node or an edge is added or removed", () => {
    const key = structureKey(drawn);
    expect(structureKey({ ...drawn, nodes: [...drawn.nodes, node("x", "job")] })).not.toBe(key);
    expect(structureKey({ ...drawn, edges: drawn.edges.slice(1) })).not.toBe(key);
  });
});

import type { EventJson, GraphJson } from "@causeway/protocol";
import { describe, expect, it } from "vitest";
import { chainOf } from "../src/chain.js";
import { INITIAL_STATE, reduce, type Action, type AppState } from "../src/state.js";

//   repo ──▶ build ──▶ image ──▶ deploy        lonely
const graph: GraphJson = {
  nodes: [
    {
      name: "repo",
      kind: "resource",
      type: "gitRepo",
      flags: ["app"],
      state: "ready",
      paused: false,
      latestVersion: 1,
      latestRun: null,
    },
    {
      name: "build",
      kind: "job",
      type: "runSh",
      flags: ["app"],
      state: "success",
      paused: false,
      latestVersion: 1,
      latestRun: { id: 1, number: 1, status: "success" },
    },
    {
      name: "image",
      kind: "resource",
      type: "image",
      flags: [],
      state: "empty",
      paused: false,
      latestVersion: null,
      latestRun: null,
    },
    {
      name: "deploy",
      kind: "job",
      type: "runSh",
      flags: ["ops"],
      state: "never_run",
      paused: false,
      latestVersion: null,
      latestRun: null,
    },
    {
      name: "lonely",
      kind: "job",
      type: "runSh",
      flags: [],
      state: "never_run",
      paused: false,
      latestVersion: null,
      latestRun: null,
    },
  ],
  edges: [
    { from: "repo", to: "build", step: "IN", switchOff: false, pinned: null, newer: false },
    { from: "build", to: "image", step: "OUT", switchOff: false, pinned: null, newer: false },
    { from: "image", to: "deploy", step: "IN", switchOff: true, pinned: null, newer: false },
  ],
};

const at = "2026-12-03T10:00:00.000Z";
const run = (id: number, job: string, number: number, status: "processing" | "success" | "failure"): EventJson => ({
  id: 100 + id * 10 + number,
  at,
  type: "run",
  payload: { id, job, number, status, statusReason: null, flow: "f1" },
});

const apply = (state: AppState, ...actions: Action[]): AppState => actions.reduce(reduce, state);
const loaded = apply(INITIAL_STATE, { type: "graph-loaded", graph });

describe("reduce", () => {
  it("a run event changes only its job's node, and no structure", () => {
    const next = apply(loaded, { type: "event", event: run(2, "build", 2, "processing") });
    expect(next.graph!.nodes.build).toMatchObject({ state: "processing", latestRun: { id: 2, number: 2 } });
    for (const name of ["repo", "image", "deploy", "lonely"])
      expect(next.graph!.nodes[name]).toBe(loaded.graph!.nodes[name]);
    expect(next.graph!.structure).toBe(loaded.graph!.structure);
    expect(next.graph!.edges).toBe(loaded.graph!.edges);
    expect(next.lastEventId).toBe(122);
    expect(next.ticks.build).toBe(1);
    expect(next.runs[2]?.status).toBe("processing");
  });

  it("an older run's late event does not hide the latest run's state", () => {
    const next = apply(
      loaded,
      { type: "event", event: run(3, "build", 3, "processing") },
      { type: "event", event: run(2, "build", 2, "failure") },
    );
    expect(next.graph!.nodes.build!.state).toBe("processing");
  });

  it("a version makes an empty resource ready", () => {
    const next = apply(loaded, {
      type: "event",
      event: {
        id: 5,
        at,
        type: "version",
        payload: { id: 9, name: "image", versionNumber: 1, versionName: "v1", createdBy: "build", flow: "f1" },
      },
    });
    expect(next.graph!.nodes.image).toMatchObject({ state: "ready", latestVersion: 1 });
    // image feeds a switched-off input: its `newer` badge comes from the server.
    expect(next.graphWanted).toBe(loaded.graphWanted + 1);
  });

  it("a definition event asks for the graph again; pause and resume mark the node at once", () => {
    const paused = apply(loaded, {
      type: "event",
      event: { id: 6, at, type: "definition", payload: { name: "deploy", kind: "job", change: "paused" } },
    });
    expect(paused.graph!.nodes.deploy!.paused).toBe(true);
    expect(paused.graphWanted).toBe(loaded.graphWanted + 1);
    const added = apply(paused, {
      type: "event",
      event: { id: 7, at, type: "definition", payload: { name: "x", kind: "job", change: "added" } },
    });
    expect(added.graph).toBe(paused.graph);
    expect(added.graphWanted).toBe(paused.graphWanted + 1);
  });

  it("a reloaded graph keeps the objects of unchanged nodes", () => {
    const changed = {
      ...graph,
      nodes: graph.nodes.map((n) => (n.name === "deploy" ? { ...n, state: "success" as const } : n)),
    };
    const next = apply(loaded, { type: "graph-loaded", graph: changed });
    expect(next.graph!.nodes.repo).toBe(loaded.graph!.nodes.repo);
    expect(next.graph!.nodes.deploy).not.toBe(loaded.graph!.nodes.deploy);
    expect(next.graph!.edges).toBe(loaded.graph!.edges);
  });

  it("approval and audit events bump their pages; coming back after a break refetches the graph", () => {
    const next = apply(
      loaded,
      {
        type: "event",
        event: {
          id: 8,
          at,
          type: "approval",
          payload: {
            kind: "requested",
            runId: 4,
            job: "deploy",
            number: 1,
            approvers: [],
            minApprovals: 1,
            deadline: at,
          },
        },
      },
      { type: "connection", connection: "live" },
      { type: "connection", connection: "reconnecting" },
      { type: "connection", connection: "live" },
    );
    expect(next.approvalsTick).toBe(1);
    expect(next.ticks.deploy).toBe(1);
    expect(next.connection).toBe("live");
    expect(next.graphWanted).toBe(loaded.graphWanted + 1);
    expect(apply(loaded, { type: "graph-wanted" }).graphWanted).toBe(loaded.graphWanted + 1);
  });
});

describe("chainOf", () => {
  it("is the seeds with everything upstream and downstream", () => {
    expect([...chainOf(["build"], graph.edges)].sort()).toEqual(["build", "deploy", "image", "repo"]);
    expect([...chainOf(["image"], graph.edges)].sort()).toEqual(["build", "deploy", "image", "repo"]);
    expect([...chainOf(["repo"], graph.edges)].sort()).toEqual(["build", "deploy", "image", "repo"]);
    expect([...chainOf(["lonely"], graph.edges)]).toEqual(["lonely"]);
    expect([...chainOf([], graph.edges)]).toEqual([]);
  });
});

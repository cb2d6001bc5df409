import { describe, expect, it } from "vitest";
import {
  buildGraph,
  downstream,
  flagChain,
  GRAPH_FORMATS,
  graphToJson,
  renderGraph,
  subgraph,
  topologicalOrder,
  upstream,
  type Graph,
} from "../src/index.js";
import { loadOne, yaml } from "./helpers.js";

function graphOf(text: string): Graph {
  return buildGraph(loadOne(text).pipeline);
}

const sorted = (names: Iterable<string>): string[] => [...names].sort();

// In the drawings, ───> is an edge that triggers, ···> an IN with `switch: off`.

//   repo[app] ───> build ───> img ───> test ───> deploy[prod] ───> release
//   conf ········> build       img ···························> deploy
//                  build ───────────────> test
//   docs (no edges)
const LINE = yaml`
  resources:
    - { name: repo, type: gitRepo, flags: [app] }
    - { name: conf, type: params }
    - { name: img, type: image }
    - { name: release, type: version }
    - { name: docs, type: params }
  jobs:
    - name: build
      type: runSh
      steps: [{ IN: repo }, { IN: conf, switch: off }, { OUT: img }]
    - name: test
      type: runSh
      steps: [{ IN: build }, { IN: img }]
    - name: deploy
      type: runSh
      flags: [prod]
      steps: [{ IN: test }, { IN: img, switch: off }, { OUT: release }]
`;

describe("buildGraph", () => {
  const graph = graphOf(LINE);

  it("has one node per resource and job, in definition order", () => {
    expect(graph.nodes.map((n) => [n.name, n.kind, n.type])).toEqual([
      ["repo", "resource", "gitRepo"],
      ["conf", "resource", "params"],
      ["img", "resource", "image"],
      ["release", "resource", "version"],
      ["docs", "resource", "params"],
      ["build", "job", "runSh"],
      ["test", "job", "runSh"],
      ["deploy", "job", "runSh"],
    ]);
    expect(graph.node("repo")).toMatchObject({ flags: ["app"], consistent: true });
    expect(graph.node("nope")).toBeUndefined();
  });

  it("has an edge per IN and OUT, with switch: off kept", () => {
    expect(graph.edges).toEqual([
      { from: "repo", to: "build", step: "IN", switchOff: false },
      { from: "conf", to: "build", step: "IN", switchOff: true },
      { from: "build", to: "img", step: "OUT", switchOff: false },
      { from: "build", to: "test", step: "IN", switchOff: false },
      { from: "img", to: "test", step: "IN", switchOff: false },
      { from: "test", to: "deploy", step: "IN", switchOff: false },
      { from: "img", to: "deploy", step: "IN", switchOff: true },
      { from: "deploy", to: "release", step: "OUT", switchOff: false },
    ]);
  });

  it("answers parents and children", () => {
    expect(graph.parents("build")).toEqual(["repo", "conf"]);
    expect(graph.children("build")).toEqual(["img", "test"]);
    expect(graph.parents("test")).toEqual(["build", "img"]);
    expect(graph.children("img")).toEqual(["test", "deploy"]);
    expect(graph.parents("repo")).toEqual([]);
    expect(graph.children("release")).toEqual([]);
    expect(graph.parents("docs")).toEqual([]);
    expect(graph.children("docs")).toEqual([]);
    expect(graph.parents("unknown")).toEqual([]);
  });

  it("closes upstream and downstream transitively, without the node itself", () => {
    expect(sorted(upstream(graph, "deploy"))).toEqual(["build", "conf", "img", "repo", "test"]);
    expect(sorted(upstream(graph, "test"))).toEqual(["build", "conf", "img", "repo"]);
    expect(sorted(upstream(graph, "repo"))).toEqual([]);
    expect(sorted(downstream(graph, "conf"))).toEqual(["build", "deploy", "img", "release", "test"]);
    expect(sorted(downstream(graph, "img"))).toEqual(["deploy", "release", "test"]);
    expect(sorted(downstream(graph, "release"))).toEqual([]);
    expect(sorted(downstream(graph, "docs"))).toEqual([]);
  });

  it("orders topologically, ties in definition order", () => {
    expect(topologicalOrder(graph)).toEqual(["repo", "conf", "docs", "build", "img", "test", "deploy", "release"]);
  });

  it("gives a flag's nodes with their whole upstream and downstream chain", () => {
    expect(sorted(flagChain(graph, "app"))).toEqual(["build", "deploy", "img", "release", "repo", "test"]);
    expect(sorted(flagChain(graph, "prod"))).toEqual(["build", "conf", "deploy", "img", "release", "repo", "test"]);
    expect(sorted(flagChain(graph, "nobody"))).toEqual([]);
  });

  it("cuts an induced subgraph", () => {
    //   repo ───> build ───> img        (test, deploy, release, conf, docs left out)
    const small = subgraph(graph, new Set(["repo", "build", "img"]));
    expect(small.nodes.map((n) => n.name)).toEqual(["repo", "img", "build"]);
    expect(small.edges).toEqual([
      { from: "repo", to: "build", step: "IN", switchOff: false },
      { from: "build", to: "img", step: "OUT", switchOff: false },
    ]);
    expect(small.parents("build")).toEqual(["repo"]);
    expect(small.children("img")).toEqual([]);
    expect(small.node("test")).toBeUndefined();
    expect(topologicalOrder(small)).toEqual(["repo", "build", "img"]);
  });
});

describe("a job fed twice by one resource", () => {
  //   repo ───> a     (two IN steps of repo: two edges, one parent)
  const graph = graphOf(yaml`
    resources:
      - { name: repo, type: gitRepo }
    jobs:
      - name: a
        type: runSh
        steps: [{ IN: repo }, { IN: repo, switch: off }]
  `);

  it("keeps both edges but lists the parent once", () => {
    expect(graph.edges).toHaveLength(2);
    expect(graph.parents("a")).toEqual(["repo"]);
    expect(graph.children("repo")).toEqual(["a"]);
    expect(topologicalOrder(graph)).toEqual(["repo", "a"]);
  });
});

describe("cycles", () => {
  //   src ───> a ───> st(state) ───> b
  //            ^          │
  //            └──────────┘          (a reads and writes the state resource st)
  const graph = graphOf(yaml`
    resources:
      - { name: src, type: gitRepo }
      - { name: st, type: state }
    jobs:
      - name: a
        type: runSh
        steps: [{ IN: src }, { IN: st }, { OUT: st }]
      - name: b
        type: runSh
        steps: [{ IN: st }]
  `);

  it("lists every node once, nodes on and after a cycle last in definition order", () => {
    const order = topologicalOrder(graph);
    expect(order).toEqual(["src", "st", "a", "b"]);
    expect(new Set(order).size).toBe(graph.nodes.length);
  });

  it("closes upstream and downstream around the cycle without the node itself", () => {
    expect(sorted(upstream(graph, "a"))).toEqual(["src", "st"]);
    expect(sorted(downstream(graph, "a"))).toEqual(["b", "st"]);
    expect(sorted(upstream(graph, "b"))).toEqual(["a", "src", "st"]);
  });

  //   a ───> b ───> c ───> a     (an error of the language, but the graph still answers)
  //          b ───> d
  const loop = graphOf(yaml`
    jobs:
      - { name: a, type: runSh, steps: [{ OUT: b }] }
      - { name: b, type: runSh, steps: [{ OUT: c }, { OUT: d }] }
      - { name: c, type: runSh, steps: [{ OUT: a }] }
      - { name: d, type: runSh, flags: [leaf] }
  `);

  it("keeps a job-to-job cycle drawable and every query finite", () => {
    expect(loop.nodes.map((n) => [n.name, n.consistent])).toEqual([
      ["a", false],
      ["b", false],
      ["c", false],
      ["d", true],
    ]);
    expect(topologicalOrder(loop)).toEqual(["a", "b", "c", "d"]);
    expect(sorted(upstream(loop, "d"))).toEqual(["a", "b", "c"]);
    expect(sorted(downstream(loop, "a"))).toEqual(["b", "c", "d"]);
    expect(sorted(flagChain(loop, "leaf"))).toEqual(["a", "b", "c", "d"]);
  });
});

describe("broken references", () => {
  //   repo ───> a ───> (ghost: undefined, no edge)
  //   (phantom: undefined) ···> a
  const graph = graphOf(yaml`
    resources:
      - { name: repo, type: gitRepo }
    jobs:
      - name: a
        type: runSh
        steps: [{ IN: repo }, { IN: phantom }, { OUT: ghost }]
  `);

  it("leaves out steps that name undefined objects and keeps the job, inconsistent", () => {
    expect(graph.edges).toEqual([{ from: "repo", to: "a", step: "IN", switchOff: false }]);
    expect(graph.node("a")).toMatchObject({ kind: "job", consistent: false });
  });

  //   (nameless resource)   (nameless job)   a <── (IN with no name)
  const nameless = graphOf(yaml`
    resources:
      - type: params
    jobs:
      - name: a
        type: runSh
        steps:
          - IN:
          - OUT:
      - type: runSh
  `);

  it("never links a step without a name to an object without a name", () => {
    expect(nameless.edges).toEqual([]);
    expect(nameless.nodes.map((n) => n.name)).toEqual(["a"]);
    expect(topologicalOrder(nameless)).toEqual(["a"]);
  });
});

describe("renderGraph", () => {
  //   repo ───> build ───> app_img
  //   cfg ····> build
  //   broken ("IN: nope" is undefined: inconsistent)
  const graph = graphOf(yaml`
    resources:
      - { name: repo, type: gitRepo }
      - { name: cfg, type: params }
      - { name: app_img, type: image }
    jobs:
      - name: build
        type: runSh
        steps: [{ IN: repo }, { IN: cfg, switch: off }, { OUT: app_img }]
      - name: broken
        type: runSh
        steps: [{ IN: nope }]
  `);

  it("knows four formats", () => {
    expect(GRAPH_FORMATS).toEqual(["text", "dot", "mermaid", "json"]);
  });

  it("renders text", () => {
    expect(renderGraph(graph, "text")).toMatchInlineSnapshot(`
      "broken (runSh)  [inconsistent]
      build (runSh)
        <- repo
        <- cfg  (switch: off)
        -> app_img

      3 resources, 2 jobs, 3 edges
      "
    `);
  });

  it("renders dot", () => {
    expect(renderGraph(graph, "dot")).toMatchInlineSnapshot(`
      "digraph causeway {
        rankdir=LR;
        node [fontname=Helvetica];
        "repo" [shape=ellipse, label="repo
      gitRepo"];
        "cfg" [shape=ellipse, label="cfg
      params"];
        "app_img" [shape=ellipse, label="app_img
      image"];
        "build" [shape=box, label="build
      runSh"];
        "broken" [shape=box, label="broken
      runSh", color=deeppink];
        "repo" -> "build";
        "cfg" -> "build" [style=dashed];
        "build" -> "app_img";
      }
      "
    `);
  });

  it("renders mermaid", () => {
    expect(renderGraph(graph, "mermaid")).toMatchInlineSnapshot(`
      "flowchart LR
        n0(["repo"])
        n1(["cfg"])
        n2(["app_img"])
        n3["build"]
        n4["broken"]
        n0 --> n3
        n1 -.-> n3
        n3 --> n2
        classDef inconsistent stroke:#e0218a,stroke-width:2px
        class n4 inconsistent
      "
    `);
  });

  it("renders json: nodes in topological order, edges as built", () => {
    const text = renderGraph(graph, "json");
    expect(JSON.parse(text)).toEqual(graphToJson(graph));
    expect(text).toMatchInlineSnapshot(`
      "{
        "nodes": [
          {
            "name": "repo",
            "kind": "resource",
            "type": "gitRepo",
            "flags": [],
            "consistent": true
          },
          {
            "name": "cfg",
            "kind": "resource",
            "type": "params",
            "flags": [],
            "consistent": true
          },
          {
            "name": "broken",
            "kind": "job",
            "type": "runSh",
            "flags": [],
            "consistent": false
          },
          {
            "name": "build",
            "kind": "job",
            "type": "runSh",
            "flags": [],
            "consistent": true
          },
          {
            "name": "app_img",
            "kind": "resource",
            "type": "image",
            "flags": [],
            "consistent": true
          }
        ],
        "edges": [
          {
            "from": "repo",
            "to": "build",
            "step": "IN",
            "switchOff": false
          },
          {
            "from": "cfg",
            "to": "build",
            "step": "IN",
            "switchOff": true
          },
          {
            "from": "build",
            "to": "app_img",
            "step": "OUT",
            "switchOff": false
          }
        ]
      }
      "
    `);
  });

  it("escapes quotes in dot and mermaid labels", () => {
    const weird = buildGraph({
      resources: [],
      jobs: [{ ...loadOne("jobs:\n  - { name: a, type: runSh }\n").pipeline.jobs[0]!, name: 'say "hi"' }],
    });
    expect(renderGraph(weird, "dot")).toContain('"say \\"hi\\"" [shape=box');
    expect(renderGraph(weird, "mermaid")).toContain('n0["say #quot;hi#quot;"]');
  });

  it("renders an empty graph", () => {
    const empty = buildGraph({ resources: [], jobs: [] });
    expect(renderGraph(empty, "text")).toBe("\n0 resources, 0 jobs, 0 edges\n");
    expect(JSON.parse(renderGraph(empty, "json"))).toEqual({ nodes: [], edges: [] });
  });
});

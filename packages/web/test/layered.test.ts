import { describe, expect, it } from "vitest";
import { LAYERED_SPACING, layeredLayout } from "../src/layered.js";
import type { GraphStructure } from "../src/layout.js";
import { overlaps } from "./boxes.js";

const size = (kind: "job" | "resource") => (kind === "job" ? { width: 200, height: 64 } : { width: 180, height: 44 });
const job = (name: string) => ({ name, kind: "job" as const });
const res = (name: string) => ({ name, kind: "resource" as const });
const edge = (from: string, to: string) => ({ from, to, step: "IN" as const });

describe("layeredLayout", () => {
  //   repo ──▶ build ──▶ test ──▶ deploy
  //     └────────────────────────────▲      (a long edge: deploy stays right of test)
  //   config ─────────────────────────┘
  const line: GraphStructure = {
    nodes: [job("deploy"), res("config"), job("test"), job("build"), res("repo")],
    edges: [
      edge("repo", "build"),
      edge("build", "test"),
      edge("test", "deploy"),
      edge("repo", "deploy"),
      edge("config", "deploy"),
    ],
  };

  it("puts each node one layer right of its furthest input, none overlapping", () => {
    const layout = layeredLayout(line, size);
    const column = (name: string) => layout[name]!.x;
    expect(column("repo")).toBe(0);
    expect(column("config")).toBe(0);
    expect(column("build")).toBeGreaterThan(column("repo"));
    expect(column("test")).toBeGreaterThan(column("build"));
    expect(column("deploy")).toBeGreaterThan(column("test"));
    for (const e of line.edges) expect(layout[e.from]!.x + layout[e.from]!.width).toBeLessThan(layout[e.to]!.x);
    expect(overlaps(layout)).toEqual([]);
    expect(layout.build!.x - (layout.repo!.x + 180)).toBeGreaterThanOrEqual(LAYERED_SPACING.layer);
  });

  it("is a function of the structure: the same line gives the same picture", () => {
    expect(layeredLayout(line, size)).toEqual(layeredLayout(structuredClone(line), size));
  });

  it("orders a layer by its inputs' rows, so that chains stay straight", () => {
    //   a ──▶ a2        (definition order lists b2 before a2: the sweep puts a2 first, by a)
    //   b ──▶ b2
    const layout = layeredLayout(
      { nodes: [res("a"), res("b"), job("b2"), job("a2")], edges: [edge("a", "a2"), edge("b", "b2")] },
      size,
    );
    expect(layout.a2!.y).toBeLessThan(layout.b2!.y);
  });

  it("places the nodes of a cycle, unknown and self edges ignored", () => {
    //   x ──▶ y ──▶ z ──▶ y (a cycle)
    const layout = layeredLayout(
      {
        nodes: [job("x"), job("y"), job("z")],
        edges: [edge("x", "y"), edge("y", "z"), edge("z", "y"), edge("x", "x"), edge("ghost", "x")],
      },
      size,
    );
    expect(Object.keys(layout).sort()).toEqual(["x", "y", "z"]);
    expect(overlaps(layout)).toEqual([]);
    expect(layout.y!.x).toBeGreaterThan(layout.x!.x);
  });
});

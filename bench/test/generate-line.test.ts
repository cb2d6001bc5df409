import { buildGraph, loadPipeline, loadPipelineDirectory, topologicalOrder } from "@causeway/core";
import { describe, expect, it } from "vitest";
import { generateLine } from "../src/generate-line.js";
import { writeLine } from "../src/validate10k.js";
import { nodePipelineFs } from "@causeway/server";

describe("generateLine", () => {
  it.each([
    { jobs: 50, resources: 50, files: 3 },
    { jobs: 20, resources: 35, files: 4 },
    { jobs: 40, resources: 10, files: 1 },
  ])("a line of $jobs jobs and $resources resources in $files files loads with no diagnostic", (options) => {
    const line = generateLine(options);
    expect(line.files.map((f) => f.path)).toHaveLength(options.files);
    const result = loadPipeline(line.files);
    expect(result.diagnostics).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.summary).toEqual({ ...line.expected, resources: options.resources, jobs: options.jobs });
  });

  it("draws a DAG: apart from state (IN and OUT of its own job), every edge goes forward", () => {
    const graph = buildGraph(loadPipeline(generateLine({ jobs: 200, resources: 200 }).files).pipeline);
    expect(topologicalOrder(graph)).toHaveLength(400);
    // Resource i belongs to job i; job j only takes upstream jobs and images of jobs before it.
    const index = (name: string): number => Number(/-(\d+)$/.exec(name)?.[1]);
    const edges = graph.edges.filter((e) => graph.node(e.from)?.type !== "state" && graph.node(e.to)?.type !== "state");
    expect(edges.length).toBeGreaterThan(300);
    expect(edges.filter((e) => index(e.from) > index(e.to))).toEqual([]);
    const jobToJob = edges.filter((e) => graph.node(e.from)?.kind === "job" && graph.node(e.to)?.kind === "job");
    expect(jobToJob.filter((e) => index(e.from) >= index(e.to))).toEqual([]);
  });

  it("mixes the features a real line uses", () => {
    const { pipeline } = loadPipeline(generateLine({ jobs: 100, resources: 100 }).files);
    expect(new Set(pipeline.resources.map((r) => r.type))).toEqual(
      new Set(["gitRepo", "params", "image", "state", "time"]),
    );
    const jobNames = new Set(pipeline.jobs.map((j) => j.name));
    const steps = pipeline.jobs.flatMap((j) => j.steps);
    expect(steps.some((s) => s.kind === "IN" && s.switchOff)).toBe(true);
    expect(steps.some((s) => s.kind === "IN" && jobNames.has(s.name))).toBe(true);
    expect(steps.some((s) => s.kind === "OUT" && s.name.startsWith("img-"))).toBe(true);
    expect(steps.some((s) => s.kind === "TASK")).toBe(true);
    const parentJobs = pipeline.jobs.map((j) => j.steps.filter((s) => s.kind === "IN" && jobNames.has(s.name)).length);
    expect(Math.max(...parentJobs)).toBe(3);
  });

  it("is deterministic: the same seed gives the same text, another seed another DAG", () => {
    const a = generateLine({ jobs: 100, resources: 100, seed: 7 });
    expect(generateLine({ jobs: 100, resources: 100, seed: 7 })).toEqual(a);
    expect(generateLine({ jobs: 100, resources: 100, seed: 8 }).files).not.toEqual(a.files);
  });

  it("reads back from disk through the node PipelineFs", async () => {
    const line = await writeLine(generateLine({ jobs: 30, resources: 30, files: 2 }));
    try {
      const result = await loadPipelineDirectory(nodePipelineFs(line.dir));
      expect(result.files).toEqual(["line-00.causeway.yml", "line-01.causeway.yml"]);
      expect(result.diagnostics).toEqual([]);
      expect(result.summary).toEqual(line.expected);
    } finally {
      await line.remove();
    }
  });
});

import { loadPipeline, type Pipeline } from "@causeway/core";
import { describe, expect, it } from "vitest";
import { isRelativeSource, resolveRelativeSources } from "../src/relative-sources.js";
import { yaml } from "./helpers.js";

function line(text: string): Pipeline {
  const result = loadPipeline([{ path: "causeway.yml", text }]);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.pipeline;
}

function gitRepo(sourceName: string): Pipeline {
  return line(yaml`
    resources:
      - name: repo
        type: gitRepo
        versionTemplate:
          sourceName: ${JSON.stringify(sourceName)}
          branch: main
  `);
}

describe("isRelativeSource", () => {
  it.each([
    [".", true],
    ["..", true],
    ["./app-repo", true],
    ["../repos/app", true],
    ["app-repo", false],
    ["acme/app", false],
    ["/srv/app", false],
    ["file:///srv/app", false],
    ["https://example.com/acme/app.git", false],
    [".hidden/app", false],
    ["", false],
    [42, false],
  ])("%j: %j", (source, relative) => {
    expect(isRelativeSource(source)).toBe(relative);
  });
});

describe("resolveRelativeSources", () => {
  it.each([
    ["./app-repo", "/work/line/app-repo"],
    ["./app-repo/", "/work/line/app-repo"],
    ["../repos/app", "/work/repos/app"],
    [".", "/work/line"],
  ])("a versionTemplate gitRepo %j becomes %j in pointer and template", (source, absolute) => {
    const [repo] = resolveRelativeSources(gitRepo(source), "/work/line").resources;
    expect(repo?.pointer).toEqual({ sourceName: absolute, branch: "main" });
    expect(repo?.template).toEqual({ sourceName: absolute, branch: "main" });
  });

  it.each(["acme/app", "/srv/app", "file:///srv/app", "https://example.com/acme/app.git"])(
    "leaves %j as written, and returns the same pipeline",
    (source) => {
      const pipeline = gitRepo(source);
      expect(resolveRelativeSources(pipeline, "/work/line")).toBe(pipeline);
    },
  );

  it("resolves the legacy pointer, keeps seed and version, and only touches gitRepo resources", () => {
    const pipeline = line(yaml`
      resources:
        - name: legacy
          type: gitRepo
          pointer:
            sourceName: ../app
            branch: main
          seed:
            versionName: abc
        - name: settings
          type: params
          versionTemplate:
            params:
              sourceName: ./not-a-repository
      jobs:
        - name: build
          type: runSh
          steps:
            - IN: legacy
            - IN: settings
            - TASK:
                script:
                  - "true"
    `);
    const resolved = resolveRelativeSources(pipeline, "/work/line");
    const [legacy, settings] = resolved.resources;
    expect(legacy?.pointer).toEqual({ sourceName: "/work/app", branch: "main" });
    expect(legacy?.template).toEqual({ sourceName: "/work/app", branch: "main", versionName: "abc" });
    expect(legacy?.seed).toEqual({ versionName: "abc" });
    expect(settings).toBe(pipeline.resources[1]);
    expect(resolved.jobs).toBe(pipeline.jobs);
    // The input is left as it was.
    expect(pipeline.resources[0]?.pointer.sourceName).toBe("../app");
  });

  it("refuses a relative base directory", () => {
    expect(() => resolveRelativeSources(gitRepo("./app"), "line")).toThrow(/absolute/);
  });
});
